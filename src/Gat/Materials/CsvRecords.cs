using System.Text;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// One CSV record: its fields and the 1-based line on which each field starts; or, when <see cref="Error"/> is set, a record
/// that could not be read (its fields are empty and <see cref="Line"/> is where it starts).
/// </summary>
public sealed record CsvRecord(string[] Fields, int[] Lines, string? Error = null, int StartLine = 0)
{
    public int Line => Lines.Length > 0 ? Lines[0] : StartLine;
}

/// <summary>
/// RFC 4180 CSV as pandas writes it: comma-separated, fields in double quotes may hold commas, doubled quotes and line
/// breaks (a whole CIF), CRLF or LF line ends. A broken quote does not swallow the rest of the file: the record it opens is
/// returned as an error naming its lines, and reading starts again where the damage visibly ends.
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
        var input = new RewindableReader(reader);
        var fields = new List<string>();
        var lines = new List<int>();
        var field = new StringBuilder();
        int line = 1, fieldLine = 1, recordLine = 1;
        bool quoted = false, inQuotes = false, recordStarted = false;
        while (true)
        {
            int next = input.Read();
            if (next < 0)
            {
                if (inQuotes)
                {
                    // The quote opened on fieldLine was never closed: skip that record and read the lines after its first again.
                    yield return new CsvRecord([], [], $"a quoted field opened on line {fieldLine} is not closed before the end of the file; " +
                                                        $"the record is skipped and the lines after line {recordLine} are read again", recordLine);
                    input.RewindAfterFirstLine();
                    line = recordLine + 1;
                    Reset();
                    continue;
                }

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
                    if (input.Peek() == '"')
                    {
                        input.Read();
                        field.Append('"');
                    }
                    else inQuotes = false;
                }
                else
                {
                    if (c == '\n') line++;
                    // A CRLF inside a quoted field stays one line break.
                    if (c != '\r' || input.Peek() != '\n') field.Append(c);
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
                case '\r' when input.Peek() == '\n':
                    break;
                case '\n' or '\r':
                    if (recordStarted || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        lines.Add(fieldLine);
                        yield return new CsvRecord(fields.ToArray(), lines.ToArray());
                    }

                    line++;
                    Reset();
                    input.StartRecord();
                    break;
                default:
                    if (quoted)
                    {
                        // Text after a closing quote: if the field spans lines, that quote most likely opens the next record's
                        // field, so the damage ends where its line starts; reading resumes there (else at the next line).
                        string error = $"text after the closing quote of a field ('{c}' on line {line})" +
                                       (line > recordLine ? $": the quote opened on line {fieldLine} is not closed where it should be; lines {recordLine}-{line - 1} are skipped" : "");
                        yield return new CsvRecord([], [], error, recordLine);
                        if (line > recordLine) input.RewindToLineStart();
                        else
                        {
                            while (input.Peek() is >= 0 and not '\n') input.Read();
                            input.Read();
                            line++;
                        }

                        Reset();
                        input.StartRecord();
                        break;
                    }

                    field.Append(c);
                    recordStarted = true;
                    break;
            }
        }

        void Reset()
        {
            fields.Clear();
            lines.Clear();
            field.Clear();
            quoted = inQuotes = recordStarted = false;
            fieldLine = recordLine = line;
        }
    }

    /// <summary>A reader that keeps the text of the record being read, so a broken one can be read again from a later line.</summary>
    private sealed class RewindableReader(TextReader reader)
    {
        private readonly StringBuilder _record = new();
        private string _replay = "";
        private int _replayAt;

        public int Read()
        {
            int c = _replayAt < _replay.Length ? _replay[_replayAt++] : reader.Read();
            if (c >= 0) _record.Append((char)c);
            return c;
        }

        public int Peek() => _replayAt < _replay.Length ? _replay[_replayAt] : reader.Peek();

        public void StartRecord() => _record.Clear();

        /// <summary>Reads the current line again from its start (the offending character included).</summary>
        public void RewindToLineStart()
        {
            string text = _record.ToString();
            Replay(text[(text.LastIndexOf('\n') + 1)..]);
        }

        /// <summary>Reads the record again from its second line.</summary>
        public void RewindAfterFirstLine()
        {
            string text = _record.ToString();
            int end = text.IndexOf('\n');
            Replay(end < 0 ? "" : text[(end + 1)..]);
        }

        private void Replay(string text)
        {
            _replay = text + _replay[_replayAt..];
            _replayAt = 0;
            _record.Clear();
        }
    }
}
