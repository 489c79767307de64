using System.Text;

namespace SaGatSr.Gat.Materials;

/// <summary>One CSV record: its fields and the 1-based line on which each field starts.</summary>
public sealed record CsvRecord(string[] Fields, int[] Lines)
{
    public int Line => Lines.Length > 0 ? Lines[0] : 0;
}

/// <summary>
/// RFC 4180 CSV as pandas writes it: comma-separated, fields in double quotes may hold commas, doubled quotes and line
/// breaks (a whole CIF), CRLF or LF line ends.
/// </summary>
public static class CsvRecords
{
    public static IEnumerable<CsvRecord> Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        foreach (var record in Read(reader, path)) yield return record;
    }

    public static IEnumerable<CsvRecord> Read(TextReader reader, string sourceName)
    {
        var fields = new List<string>();
        var lines = new List<int>();
        var field = new StringBuilder();
        int line = 1, fieldLine = 1;
        bool quoted = false, inQuotes = false, recordStarted = false;
        while (true)
        {
            int next = reader.Read();
            if (next < 0)
            {
                if (inQuotes) throw new StructureFormatException(sourceName, fieldLine, "a quoted field is not closed before the end of the file");
                if (recordStarted || field.Length > 0)
                {
                    fields.Add(field.ToString());
                    lines.Add(fieldLine);
                    yield return new CsvRecord(fields.ToArray(), lines.ToArray());
                }

                yield break;
            }

            char c = (char)next;
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else inQuotes = false;
                }
                else
                {
                    if (c == '\n') line++;
                    // A CRLF inside a quoted field stays one line break.
                    if (c != '\r' || reader.Peek() != '\n') field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0 && !quoted:
                    inQuotes = quoted = true;
                    recordStarted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    lines.Add(fieldLine);
                    field.Clear();
                    quoted = false;
                    fieldLine = line;
                    recordStarted = true;
                    break;
                case '\r' when reader.Peek() == '\n':
                    break;
                case '\n' or '\r':
                    if (recordStarted || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        lines.Add(fieldLine);
                        yield return new CsvRecord(fields.ToArray(), lines.ToArray());
                    }

                    fields.Clear();
                    lines.Clear();
                    field.Clear();
                    quoted = recordStarted = false;
                    line++;
                    fieldLine = line;
                    break;
                default:
                    if (quoted) throw new StructureFormatException(sourceName, line, $"text after the closing quote of a field ('{c}')");
                    field.Append(c);
                    recordStarted = true;
                    break;
            }
        }
    }
}
