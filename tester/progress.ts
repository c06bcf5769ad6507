// A live progress line: on a terminal it is rewritten in place (\r), at most
// a few times a second, and erased at the end; elsewhere (a pipe, a CI log) it
// is printed as a plain line at most every 5 seconds, so that a long run shows
// it is alive without flooding the log.

export function liveLine(stream: NodeJS.WriteStream): (line: string) => void {
  let last = Date.now(); // in a log, nothing for the first 5 s
  let shown = false;
  return (line: string) => {
    const now = Date.now();
    if (line === '') {
      if (shown && stream.isTTY) stream.write('\r\x1b[K');
      shown = false;
      return;
    }
    if (stream.isTTY) {
      if (shown && now - last < 200) return;
      stream.write(`\r\x1b[K${line}`);
    } else {
      if (now - last < 5000) return;
      stream.write(`${line}\n`);
    }
    last = now;
    shown = true;
  };
}
