// Child processes (FFmpeg) that must not outlive Glint: each group tracks its live children, and one exit handler
// kills whatever is left in every group when the process exits.
import type { ChildProcess } from 'node:child_process';

const groups: Set<ChildProcess>[] = [];
process.once('exit', () => {
  for (const g of groups) for (const c of g) c.kill('SIGKILL');
});

export class ChildGroup {
  private readonly live = new Set<ChildProcess>();
  constructor() {
    groups.push(this.live);
  }
  add(proc: ChildProcess): void {
    this.live.add(proc);
  }
  delete(proc: ChildProcess): void {
    this.live.delete(proc);
  }
  /** pids of the children still running */
  pids(): number[] {
    return [...this.live].map((c) => c.pid!).filter(Boolean);
  }
}
