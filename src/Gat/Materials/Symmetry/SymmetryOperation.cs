using System.Globalization;
using System.Text;

namespace SaGatSr.Gat.Materials.Symmetry;

/// <summary>
/// An affine symmetry operation on fractional coordinates, x' = R x + t, with an integer matrix R (a lattice
/// automorphism) and t reduced to [0, 1). Parsed from and printed as CIF's "-x+1/2,y,z".
/// </summary>
public sealed class SymmetryOperation : IEquatable<SymmetryOperation>
{
    /// <summary>Translations closer than this (fractional) are the same; CIF files round 1/3 to 0.3333.</summary>
    internal const double TranslationTolerance = 1e-3;

    private readonly int[] _rotation;      // row-major 3x3
    private readonly double[] _translation;

    internal SymmetryOperation(int[] rotation, double[] translation)
    {
        if (rotation.Length != 9 || translation.Length != 3)
            throw new ArgumentException("a symmetry operation needs a 3x3 rotation and a 3-vector translation");
        _rotation = (int[])rotation.Clone();
        _translation = new double[3];
        for (int r = 0; r < 3; r++)
            _translation[r] = Reduce(translation[r]);
    }

    public static SymmetryOperation Identity { get; } = new([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]);

    public int Rotation(int row, int column) => _rotation[3 * row + column];

    public double Translation(int row) => _translation[row];

    public int Determinant =>
        _rotation[0] * (_rotation[4] * _rotation[8] - _rotation[5] * _rotation[7])
        - _rotation[1] * (_rotation[3] * _rotation[8] - _rotation[5] * _rotation[6])
        + _rotation[2] * (_rotation[3] * _rotation[7] - _rotation[4] * _rotation[6]);

    public double[] Apply(ReadOnlySpan<double> f)
    {
        var result = new double[3];
        for (int r = 0; r < 3; r++)
            result[r] = _rotation[3 * r] * f[0] + _rotation[3 * r + 1] * f[1] + _rotation[3 * r + 2] * f[2] + _translation[r];
        return result;
    }

    /// <summary>Whether the operation keeps every distance of a cell with this metric (G = L Lᵀ, rows of L the lattice vectors).</summary>
    public bool PreservesMetric(double[,] metric, double relativeTolerance)
    {
        double scale = Math.Max(metric[0, 0], Math.Max(metric[1, 1], metric[2, 2]));
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
        {
            double transformed = 0;
            for (int k = 0; k < 3; k++)
            for (int l = 0; l < 3; l++)
                transformed += _rotation[3 * k + i] * metric[k, l] * _rotation[3 * l + j];
            if (Math.Abs(transformed - metric[i, j]) > relativeTolerance * scale)
                return false;
        }

        return true;
    }

    /// <summary>
    /// Parses "x,y,z"-style text: each component a sum of ±x, ±y, ±z (integer multiples) and constants ("1/2", "0.5").
    /// Returns null and a reason when the text is not an operation.
    /// </summary>
    public static SymmetryOperation? TryParse(string text, out string? problem)
    {
        problem = null;
        var rotation = new int[9];
        var translation = new double[3];
        int row = 0, i = 0;
        bool rowHasTerm = false;
        ReadOnlySpan<char> span = text;
        while (true)
        {
            while (i < span.Length && char.IsWhiteSpace(span[i]))
                i++;
            if (i == span.Length || span[i] == ',')
            {
                if (!rowHasTerm)
                {
                    problem = i == span.Length && row < 2 ? "must have three comma-separated components" : "has an empty component";
                    return null;
                }

                if (i == span.Length)
                    break;
                if (++row > 2)
                {
                    problem = "must have three comma-separated components";
                    return null;
                }

                rowHasTerm = false;
                i++;
                continue;
            }

            double sign = 1;
            if (span[i] is '+' or '-')
            {
                sign = span[i] == '-' ? -1 : 1;
                i++;
                while (i < span.Length && char.IsWhiteSpace(span[i]))
                    i++;
            }

            int start = i;
            while (i < span.Length && (char.IsAsciiDigit(span[i]) || span[i] is '.' or '/'))
                i++;
            double coefficient = 1;
            if (i > start && !TryParseFraction(span[start..i], out coefficient))
            {
                problem = $"has a malformed number '{span[start..i]}'";
                return null;
            }

            while (i < span.Length && char.IsWhiteSpace(span[i]))
                i++;
            if (i < span.Length && span[i] == '*')
                i++;
            while (i < span.Length && char.IsWhiteSpace(span[i]))
                i++;
            char axis = i < span.Length ? char.ToLowerInvariant(span[i]) : ' ';
            if (axis is 'x' or 'y' or 'z')
            {
                if (coefficient != Math.Round(coefficient))
                {
                    problem = $"has a non-integer coefficient {coefficient.ToString(CultureInfo.InvariantCulture)} of {axis}";
                    return null;
                }

                rotation[3 * row + axis - 'x'] += (int)(sign * coefficient);
                i++;
            }
            else if (i > start)
            {
                translation[row] += sign * coefficient;
            }
            else
            {
                problem = $"has an unexpected '{(i < span.Length ? span[i] : ' ')}'";
                return null;
            }

            rowHasTerm = true;
        }

        if (row != 2)
        {
            problem = "must have three comma-separated components";
            return null;
        }

        var operation = new SymmetryOperation(rotation, translation);
        if (Math.Abs(operation.Determinant) != 1)
        {
            problem = "is not a symmetry operation (the determinant of its matrix is not ±1)";
            return null;
        }

        return operation;
    }

    /// <summary>"1/2", "0.5", "2": a number as operations write it.</summary>
    private static bool TryParseFraction(ReadOnlySpan<char> text, out double value)
    {
        int slash = text.IndexOf('/');
        if (slash < 0)
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        value = double.NaN;
        if (!double.TryParse(text[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out double numerator)
            || !double.TryParse(text[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double denominator) || denominator == 0)
            return false;
        value = numerator / denominator;
        return true;
    }

    /// <summary>The operation after this one: (other ∘ this)(x) = other(this(x)).</summary>
    public SymmetryOperation Then(SymmetryOperation other)
    {
        var rotation = new int[9];
        var translation = new double[3];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < 3; k++)
                    rotation[3 * r + c] += other._rotation[3 * r + k] * _rotation[3 * k + c];
            translation[r] = other._translation[r];
            for (int k = 0; k < 3; k++)
                translation[r] += other._rotation[3 * r + k] * _translation[k];
        }

        return new SymmetryOperation(rotation, translation);
    }

    public bool Equals(SymmetryOperation? other)
    {
        if (other is null)
            return false;
        if (!_rotation.AsSpan().SequenceEqual(other._rotation))
            return false;
        for (int r = 0; r < 3; r++)
        {
            double d = _translation[r] - other._translation[r];
            if (Math.Abs(d - Math.Round(d)) > TranslationTolerance)
                return false;
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as SymmetryOperation);

    /// <summary>Hash of the rotation only, so that operations equal within the translation tolerance share it.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int v in _rotation)
            hash.Add(v);
        return hash.ToHashCode();
    }

    /// <summary>CIF text such as "-y+1/2,x-y,z+1/3" (translations as fractions with denominators up to 24).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (int r = 0; r < 3; r++)
        {
            if (r > 0)
                text.Append(',');
            int length = text.Length;
            for (int c = 0; c < 3; c++)
            {
                int v = _rotation[3 * r + c];
                if (v == 0)
                    continue;
                if (v < 0)
                    text.Append('-');
                else if (text.Length > length)
                    text.Append('+');
                if (Math.Abs(v) != 1)
                    text.Append(Math.Abs(v));
                text.Append((char)('x' + c));
            }

            double t = _translation[r];
            if (t > TranslationTolerance && t < 1 - TranslationTolerance)
            {
                if (text.Length > length)
                    text.Append('+');
                text.Append(Fraction(t));
            }

            if (text.Length == length)
                text.Append('0');
        }

        return text.ToString();
    }

    private static string Fraction(double t)
    {
        for (int denominator = 2; denominator <= 24; denominator++)
        {
            double numerator = t * denominator;
            if (Math.Abs(numerator - Math.Round(numerator)) < TranslationTolerance * denominator)
                return $"{(int)Math.Round(numerator)}/{denominator}";
        }

        return t.ToString("0.######", CultureInfo.InvariantCulture);
    }

    private static double Reduce(double t)
    {
        double reduced = t - Math.Floor(t);
        // 0.99999999 from rounding is 0, so equal operations print and compare alike
        return reduced > 1 - 1e-9 ? 0 : reduced;
    }
}
