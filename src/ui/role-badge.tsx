// A node's name with its role as a letter and a colour (the ring's colours): "S3 L". The letter carries the
// meaning for those who cannot tell the colours apart.
import type { NodeId } from '../core/types.ts';
import { ROLE_LETTER, ROLE_NAME, type RoleShown } from './panel-format.ts';
import './panels.css';

export function RoleBadge({ id, role }: { id: NodeId; role: RoleShown | undefined }) {
  const shown = role ?? 'follower';
  return (
    <span className={`role-badge role-${shown}`} title={role ? `S${id}, ${ROLE_NAME[shown]} now` : `S${id}`}>
      S{id}
      {role ? <span className="role-letter">{ROLE_LETTER[shown]}</span> : null}
    </span>
  );
}
