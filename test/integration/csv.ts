// A CSV reader for the tests, written from RFC 4180 apart from the writer (workers/csv.ts), so
// that a test reads back what a spreadsheet would: records end with CRLF; a quoted field may hold
// commas, CR, LF and doubled quotes. Throws on what RFC 4180 does not allow (a stray quote, a
// record without its CRLF at the end of the text).
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("a quoted field is not closed");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r") {
        if (text[i] === '"' || text[i] === "\n") throw new Error(`a quote or a line break in an unquoted field at ${i}`);
        field += text[i];
        i++;
      }
    }
    record.push(field);
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] === "\r" && text[i + 1] === "\n") {
      records.push(record);
      record = [];
      i += 2;
      continue;
    }
    throw new Error(`a record does not end with CRLF at ${i}`);
  }
  if (record.length > 0) throw new Error("the last record does not end with CRLF");
  return records;
}
