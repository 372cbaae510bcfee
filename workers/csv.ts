// CSV as RFC 4180 writes it: records end with CRLF; a field that holds a comma, a double quote,
// a CR or a LF is put in double quotes, and its double quotes are doubled. A null is an empty
// field. Nothing else is changed: what a field says is what a spreadsheet or a parser reads back.

export type CsvField = string | number | null;

function csvField(value: CsvField): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF included. */
export function csvRecord(fields: readonly CsvField[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** The media type of what the API writes as CSV: UTF-8, with a header record. */
export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present";
