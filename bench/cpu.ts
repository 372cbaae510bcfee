// CPU time spent by the stack's processes (wrangler dev's two workerd, the emulator's Node),
// read from Linux's /proc: unlike rates, CPU milliseconds per request do not move when other
// programs load the machine, so they compare a payment with an acknowledgement more steadily.
// Elsewhere than Linux there is no /proc: the figures are null.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux the bench will meet). */
const TICKS_PER_S = 100;

function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: fields start after the last ")".
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // gone meanwhile
  }
}

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(stat(Number(entry))?.[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/** CPU milliseconds (user and system) used so far by `root`'s process tree; null without /proc. */
export function treeCpuMs(root: number | undefined): number | null {
  if (root === undefined || !existsSync("/proc/self/stat")) return null;
  let ticks = 0;
  for (const pid of processTree(root)) {
    const fields = stat(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1000) / TICKS_PER_S;
}
