// The learner's progress through the lessons, kept in the browser (localStorage): which lessons they finished
// and what they answered. Nothing leaves the machine; a storage that is full or switched off loses only this.

const STORAGE_KEY = 'raft-playground:lessons';

export interface LessonProgress {
  readonly done: boolean;
  /** By step index: the choice made, and whether it was the one that held. */
  readonly answers: Readonly<Record<number, { readonly chosen: number; readonly right: boolean }>>;
}

export type Progress = Readonly<Record<string, LessonProgress>>;

export function loadProgress(storage: Pick<Storage, 'getItem'> | null = safeStorage()): Progress {
  try {
    const text = storage?.getItem(STORAGE_KEY);
    const parsed: unknown = text ? JSON.parse(text) : {};
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Progress) : {};
  } catch {
    return {}; // unreadable progress is forgotten, not fatal
  }
}

export function saveProgress(progress: Progress, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(progress));
  } catch {
    // full or switched off: the lesson goes on without remembering
  }
}

export function recordAnswer(progress: Progress, id: string, step: number, chosen: number, right: boolean): Progress {
  const before = progress[id] ?? { done: false, answers: {} };
  return { ...progress, [id]: { ...before, answers: { ...before.answers, [step]: { chosen, right } } } };
}

export function recordDone(progress: Progress, id: string): Progress {
  const before = progress[id] ?? { done: false, answers: {} };
  return { ...progress, [id]: { ...before, done: true } };
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
