// workers/csv.ts: records as RFC 4180 writes them, and nothing changed besides.
import { describe, expect, it } from "vitest";
import { csvRecord } from "../../workers/csv";

describe("a CSV record (RFC 4180)", () => {
  it("quotes a field with a comma, a quote, a CR or a LF, doubles its quotes, and ends with CRLF", () => {
    expect(csvRecord(["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", null, 0, -12])).toBe('plain,"a,b","say ""hi""","two\nlines","cr\rhere",,,0,-12\r\n');
  });

  it("leaves everything else as it is: spaces, accents, semicolons, a leading minus or equals sign", () => {
    expect(csvRecord([" réserve ", "a;b", "-5.00", "=1+1"])).toBe(" réserve ,a;b,-5.00,=1+1\r\n");
  });
});
