// Trace events in plain words, citing the rule behind each decision. The playground's event log and the CLI's
// failure reports both speak through this module.
import type { TraceEvent } from './trace.ts';

const S = (id: number) => `S${id}`;

/** One sentence saying what happened and why, or null for plumbing not worth narrating (sends, deliveries). */
export function explainEvent(event: TraceEvent): string | null {
  const who = S(event.node);
  switch (event.type) {
    case 'role':
      return explainRole(event);
    case 'vote': {
      const to = S(event.candidate);
      const kind = event.preVote ? 'pre-vote' : 'vote';
      switch (event.reason) {
        case 'granted':
          return event.preVote
            ? `${who} would vote for ${to} in term ${event.term} (pre-vote, thesis §9.6).`
            : `${who} voted for ${to} in term ${event.term} (§5.2).`;
        case 'already-voted':
          return `${who} denied its ${kind} to ${to} in term ${event.term}: it already voted in this term (§5.2).`;
        case 'has-leader':
          return `${who} denied its ${kind} to ${to} in term ${event.term}: it already follows a leader of this term.`;
        case 'stale-term':
          return `${who} denied its ${kind} to ${to}: ${to}'s term ${event.term} is behind ${who}'s (§5.1).`;
        case 'leader-recently-seen':
          return `${who} denied its ${kind} to ${to}: it heard from a live leader less than an election timeout ago (thesis §9.6).`;
        case 'log-behind': {
          const comparison =
            event.lastLogTerm !== event.candidateLastLogTerm
              ? `last term ${event.lastLogTerm} > ${event.candidateLastLogTerm}`
              : `same last term ${event.lastLogTerm}, last index ${event.lastLogIndex} > ${event.candidateLastLogIndex}`;
          return `${who} denied its ${kind} to ${to} in term ${event.term}: ${who}'s log is more up-to-date (${comparison}), §5.4.1.`;
        }
      }
      return null;
    }
    case 'vote-ignored':
      return `${who} ignored ${S(event.candidate)}'s vote request for term ${event.term}: it heard from its leader less than an election timeout ago (thesis §4.2.3).`;
    case 'append': {
      const from = S(event.leader);
      switch (event.reason) {
        case 'ok': {
          const what = event.entries === 0 ? 'an empty AppendEntries' : `${event.entries} ${event.entries === 1 ? 'entry' : 'entries'}`;
          const cut = event.truncatedFrom === undefined ? '' : ` after removing its conflicting entries from index ${event.truncatedFrom}`;
          return `${who} accepted ${what} from ${from}${cut}: its log matches at index ${event.prevLogIndex} (§5.3).`;
        }
        case 'missing-entry':
          return `${who} rejected ${from}'s AppendEntries: it has no entry at index ${event.prevLogIndex} (§5.3).`;
        case 'term-mismatch':
          return `${who} rejected ${from}'s AppendEntries: its entry at index ${event.prevLogIndex} has another term (§5.3).`;
        case 'stale-term':
          return `${who} rejected ${from}'s AppendEntries: ${from}'s term ${event.term} is stale, and the answer tells it so (§5.1).`;
      }
      return null;
    }
    case 'commit':
      return `${who} committed up to index ${event.index} (term ${event.term}), §5.3.`;
    case 'propose':
      return `${who} appended a client command at index ${event.index} in term ${event.term}.`;
    case 'transfer':
      switch (event.phase) {
        case 'started':
          return `${who} began handing leadership to ${S(event.target)} (thesis §3.10).`;
        case 'timeout-now-sent':
          return `${who} told ${S(event.target)}, now up to date, to start an election at once (TimeoutNow, thesis §3.10).`;
        case 'completed':
          return `${S(event.target)} took over from ${who}: the leadership transfer is done (thesis §3.10).`;
        case 'aborted':
          return `${who} stopped handing leadership to ${S(event.target)}.`;
      }
      return null;
    case 'snapshot':
      return event.phase === 'taken'
        ? `${who} took a snapshot of its state machine up to index ${event.index} and discarded the log before it (§7).`
        : `${who} installed a snapshot from the leader up to index ${event.index} (term ${event.term}), replacing its log up to there (§7).`;
    case 'read':
      return event.via === 'lease'
        ? `${who} answered a read at index ${event.index} for ${event.requester === event.node ? 'its client' : S(event.requester)} without a heartbeat round: its leader lease still holds (thesis §6.4.1).`
        : `${who} confirmed it still leads (a majority answered a heartbeat round sent after the read arrived), so a read at index ${event.index} is linearizable (thesis §6.4).`;
    case 'config':
      return `${who} now uses the configuration voters ${event.voters.map(S).join(', ') || 'none'}${
        event.learners.length > 0 ? `, learners ${event.learners.map(S).join(', ')}` : ''
      } (entry ${event.index}; in force as soon as it is in the log, thesis §4.1).`;
    case 'drop': {
      const why = event.reason === 'loss' ? 'lost by the network' : event.reason === 'link-down' ? 'dropped: the link is cut' : event.reason === 'user' ? 'dropped by hand' : `dropped: ${S(event.to)} is down`;
      return `${S(event.from)}'s ${event.messageType} to ${S(event.to)} was ${why}.`;
    }
    case 'network':
      return event.cuts.length === 0
        ? 'The network is whole again: every link is up.'
        : `The network changed: ${event.cuts.length} ${event.cuts.length === 1 ? 'direction is' : 'directions are'} cut (${event.cuts.map(([a, b]) => `${S(a)}→${S(b)}`).join(', ')}).`;
    case 'crash':
      return `${who} crashed: its volatile state is gone; its term, vote and log survive on disk.`;
    case 'restart':
      return `${who} restarted from what it had persisted.`;
    case 'action':
      return event.skipped === undefined ? `Action: ${event.action} ${describeDetail(event.detail)}.` : `Action ${event.action} skipped: ${event.skipped}.`;
    case 'client':
      switch (event.outcome) {
        case 'done':
          return `Client request ${event.request} (${event.op}) completed at index ${event.index}.`;
        case 'rejected':
          return `${who} refused client request ${event.request} (${event.op}): ${event.reason}${event.leader ? `; ${S(event.leader)} leads` : ''}.`;
        case 'lost':
          return `Client request ${event.request} (${event.op}) got no answer: ${event.reason === 'overwritten' ? 'a new leader replaced its entry' : `${who} crashed`}.`;
      }
      return null;
    case 'violation':
      return `SAFETY VIOLATION (${event.invariant}): ${event.message}`;
    case 'send':
    case 'deliver':
    case 'apply':
      return null;
  }
}

function explainRole(event: Extract<TraceEvent, { type: 'role' }>): string {
  const who = S(event.node);
  const peer = event.peer === undefined ? '' : S(event.peer);
  switch (event.reason) {
    case 'start':
      return `${who} started as a follower in term ${event.term}.`;
    case 'election-timeout':
    case 'forced-timeout': {
      const cause = event.reason === 'election-timeout' ? 'heard from no leader for its election timeout' : 'was told to time out';
      return event.role === 'precandidate'
        ? `${who} ${cause}; it first asks whether a majority would vote for it in term ${event.term + 1} (pre-vote, thesis §9.6).`
        : `${who} ${cause} and started an election for term ${event.term} (§5.2).`;
    }
    case 'timeout-now':
      return `${who} was asked to take over and started an election for term ${event.term} at once (thesis §3.10).`;
    case 'won-prevote':
      return `${who} won the pre-vote and started a real election for term ${event.term} (thesis §9.6).`;
    case 'won-election':
      return `${who} won votes from a majority and became leader of term ${event.term} (§5.2).`;
    case 'lost-election':
      return `${who} lost the election: a majority said no; it waits as a follower in term ${event.term}.`;
    case 'higher-term':
      return `${who} became a follower in term ${event.term}: ${peer} has a newer term (§5.1).`;
    case 'leader-discovered':
      return `${who} heard from ${peer}, leader of term ${event.term}, and follows it (§5.2).`;
    case 'lost-quorum':
      return `${who} stepped down: it heard from no majority within an election timeout (CheckQuorum, thesis §6.2).`;
    case 'removed':
      return `${who} stepped down: the configuration that removes it is committed (thesis §4.2.2).`;
  }
}

function describeDetail(detail: unknown): string {
  if (detail === null || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ');
}

/** A compact line for terminals: time, node, and the explanation (or the raw event). */
export function formatTraceEvent(event: TraceEvent): string {
  const time = `t=${event.t}ms`.padEnd(10);
  const sentence = explainEvent(event);
  if (sentence !== null) return `${time} ${sentence}`;
  if (event.type === 'send') {
    return `${time} ${S(event.message.from)} -> ${S(event.message.to)} ${event.message.type} term ${event.message.term} (#${event.id}, arrives t=${event.deliverAt}ms)`;
  }
  if (event.type === 'deliver') return `${time} ${S(event.from)} -> ${S(event.node)} ${event.messageType} delivered (#${event.id})`;
  if (event.type === 'apply') return `${time} S${event.node} applied entries ${event.firstIndex}..${event.lastIndex}`;
  return `${time} ${JSON.stringify(event)}`;
}
