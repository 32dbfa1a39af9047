/** Waiting with a bound: for shutdown steps that talk to something that may not answer (a partitioned store). No I/O. */

/** Resolves true when `p` settled (resolved or rejected) within `ms`, false when it was still pending then. */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
