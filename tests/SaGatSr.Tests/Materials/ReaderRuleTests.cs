using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

/// <summary>Each reading rule of the CIF and POSCAR readers on variants of the corpus files, and the disorder policies.</summary>
public class ReaderRuleTests
{
    private static string Corpus(string name) =>
        File.ReadAllText(Path.Combine(MaterialsTestData.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "readers", name)).Replace("\r\n", "\n");

    private static Structure Cif(string text, DisorderPolicy disorder = DisorderPolicy.Virtual) => StructureReader.Parse(text, "cif", "x.cif", disorder);

    private static StructureFormatException CifFails(string text, DisorderPolicy disorder = DisorderPolicy.Virtual) =>
        Assert.Throws<StructureFormatException>(() => StructureReader.Parse(text, "cif", "x.cif", disorder))!;

    private static string Without(string text, params string[] tags) =>
        string.Join('\n', text.Split('\n').Where(l => !tags.Any(t => l.StartsWith(t + " ", StringComparison.Ordinal))));

    private static void AssertSameCrystal(Structure a, Structure b)
    {
        Assert.That(a.AtomCount, Is.EqualTo(b.AtomCount));
        Assert.That(a.Volume, Is.EqualTo(b.Volume).Within(1e-9));
        for (int i = 0; i < a.AtomCount; i++)
        {
            bool found = Enumerable.Range(0, b.AtomCount).Any(j => b.AtomicNumbers[j] == a.AtomicNumbers[i]
                && Enumerable.Range(0, 3).All(c =>
                {
                    double d = a.FractionalCoordinates[i][c] - b.FractionalCoordinates[j][c];
                    return Math.Abs(d - Math.Round(d)) < 1e-6;
                }));
            Assert.That(found, $"atom {i + 1} of one has no counterpart in the other");
        }
    }

    [Test]
    public void NamedSpaceGroupIsExpandedFromHallOrSymbolOrNumberAlike()
    {
        string full = Corpus("p21n_hall_no_operations.cif");
        var fromHall = Cif(full);
        Assert.That(fromHall.AtomCount, Is.EqualTo(12));
        Assert.That(fromHall.SpaceGroup, Is.EqualTo("P 1 21/n 1 (14)"));
        AssertSameCrystal(Cif(Without(full, "_symmetry_space_group_name_Hall")), fromHall);
        AssertSameCrystal(Cif(Without(full, "_symmetry_space_group_name_Hall").Replace("'P 1 21/n 1'", "'P 21/n'")), fromHall);
        // with the operations listed instead, the structure is the same
        string listed = Without(full, "_symmetry_space_group_name_Hall", "_symmetry_space_group_name_H-M", "_symmetry_Int_Tables_number")
            .Replace("loop_\n_atom_site_label", "loop_\n_symmetry_equiv_pos_as_xyz\nx,y,z\n-x+1/2,y+1/2,-z+1/2\n-x,-y,-z\nx+1/2,-y+1/2,z+1/2\nloop_\n_atom_site_label");
        AssertSameCrystal(Cif(listed), fromHall);
        Assert.That(Cif(listed).SpaceGroup, Is.EqualTo("P 1 21/n 1 (14)"), "listed operations are named from the table");
    }

    [Test]
    public void NamesThatDisagreeOrCannotBeResolvedAreRefusedNeverReadAsP1()
    {
        string full = Corpus("p21n_hall_no_operations.cif");
        Assert.That(CifFails(full.Replace("'P 1 21/n 1'", "'P 1 21/c 1'")).Message, Does.Contain("name different settings"));
        Assert.That(CifFails(full.Replace("_symmetry_Int_Tables_number     14", "_symmetry_Int_Tables_number     15")).Message,
            Does.Contain("space group number 15 disagrees"));
        var unknownHall = CifFails(Without(full, "_symmetry_space_group_name_H-M", "_symmetry_Int_Tables_number").Replace("'-P 2yn'", "'-P 2qn'"));
        Assert.That(unknownHall.Message, Does.Contain("not one this reader can resolve").And.Contain("unexpected 'q'"));
        Assert.That(unknownHall.Line, Is.EqualTo(8));
        // a number with several settings does not stand in for a symbol this reader cannot spell
        Assert.That(CifFails(Without(full, "_symmetry_space_group_name_Hall").Replace("'P 1 21/n 1'", "'P 1 21/n 1 (cell choice 2)'")).Message,
            Does.Contain("not one this reader can resolve"));
        // a symbol with a "(No. 14)" note, or only the number of a group with one setting, is fine
        Assert.That(Cif(Without(full, "_symmetry_space_group_name_Hall").Replace("'P 1 21/n 1'", "'P 1 21/n 1 (No. 14)'")).AtomCount, Is.EqualTo(12));
    }

    [Test]
    public void FileWithoutAnySymmetryIsItsListedAtoms()
    {
        string full = Without(Corpus("p21n_hall_no_operations.cif"), "_symmetry_space_group_name_Hall", "_symmetry_space_group_name_H-M", "_symmetry_Int_Tables_number");
        var s = Cif(full);
        Assert.That(s.AtomCount, Is.EqualTo(3));
        Assert.That(s.SpaceGroup, Is.Null);
    }

    [Test]
    public void FullHermannMauguinSymbolsAreUnderstood()
    {
        string rutile = Corpus("icsd_dot_coordinates.cif");
        int loop = rutile.IndexOf("loop_\n_symmetry_equiv_pos_site_id", StringComparison.Ordinal);
        int end = rutile.IndexOf("loop_\n_atom_type_symbol", StringComparison.Ordinal);
        string unlisted = rutile[..loop] + rutile[end..];
        AssertSameCrystal(Cif(unlisted.Replace("'P 42/m n m'", "'P 42/m 21/n 2/m'")), Cif(rutile));
    }

    [TestCase("Ow1", null, 8)]
    [TestCase("OW12", null, 8)]
    [TestCase("Hw1", null, 1)]
    [TestCase("HW2a", null, 1)]
    [TestCase("Wat", null, 8)]
    [TestCase("WAT3", null, 8)]
    [TestCase("O-H(1)", null, 8)]
    [TestCase("Fe1", null, 26)]
    [TestCase("O1a", null, 8)]
    [TestCase("Ca1", null, 20)]                // written as the symbol is: calcium
    [TestCase("Ca1", "C20 H24 N2 O4", 6)]      // ... unless the formula has carbon and no calcium (a C-alpha)
    [TestCase("CL1", "C6 H4 Cl2 O", null)]     // upper case, both in the formula: ambiguous
    [TestCase("CL1", "Cl2 Cu", 17)]
    [TestCase("CL1", null, null)]
    [TestCase("C12", null, 6)]
    [TestCase("W1", null, 74)]
    [TestCase("1O", null, null)]
    [TestCase("Xx1", null, null)]
    public void SiteLabelsFollowCrystallographersConventions(string label, string? formula, int? z)
    {
        int? element = CifSpecies.ElementOfLabel(label, CifSpecies.FormulaElements(formula), out string? problem);
        Assert.That(element, Is.EqualTo(z), problem);
        Assert.That(problem, z is null ? Does.Contain(label) : Is.Null);
    }

    [Test]
    public void TypeSymbolsAndPaulingFileMixtures()
    {
        Assert.That(CifSpecies.TryElementOfTypeSymbol("Fe3+", out int z) && z == 26);
        Assert.That(CifSpecies.TryElementOfTypeSymbol("Ow", out z) && z == 8);
        Assert.That(CifSpecies.TryElementOfTypeSymbol("OH2", out z) && z == 8, "Pauling File's water pseudo-atom is its oxygen");
        Assert.That(CifSpecies.TryElementOfTypeSymbol("Q1", out _), Is.False);
        Assert.That(CifSpecies.MixtureOfTypeSymbol("0.8Nb + 0.2Zr"), Is.EqualTo(new[] { new SiteSpecies(41, 0.8), new SiteSpecies(40, 0.2) }));
        Assert.That(CifSpecies.MixtureOfTypeSymbol("0.648(4)Mn + 0.352(4)Fe"), Is.EqualTo(new[] { new SiteSpecies(25, 0.648), new SiteSpecies(26, 0.352) }));
        Assert.That(CifSpecies.MixtureOfTypeSymbol("Nb"), Is.Null);
        Assert.That(CifSpecies.MixtureOfTypeSymbol("0.8Nb + 0.2Qq"), Is.Null);
    }

    [Test]
    public void QuotedValuesSpanningLinesKeepTheLoopAligned()
    {
        string cif = Corpus("quoted_values.cif").Replace("Cs1 Cs 0 0 0", "Cs1 Cs 0 0 0\n'K1 a\n label' K 0.5 0 0");
        Assert.That(ReaderCorpusTests.Composition(Cif(cif)), Is.EqualTo("Cl1 Cs1 K3"), "K on 3d of Pm-3m");
        // a quote that never closes is the rest of its line, not the rest of the file
        Assert.That(Cif(Corpus("quoted_values.cif").Replace("'O'Neil, A.'", "'O'Neil, A.")).AtomCount, Is.EqualTo(2));
    }

    [Test]
    public void EndOfFileMarkAndOneRowLoopsOfExporters()
    {
        string cif = Corpus("quoted_values.cif").Replace("_cell_angle_alpha 90\n", "loop_ # written by some exporters\n_cell_angle_alpha\n90\n") + "\n_eof\n\n#### End of file ####\n";
        Assert.That(Cif(cif).Volume, Is.EqualTo(Math.Pow(4.123, 3)).Within(1e-6));
    }

    [Test]
    public void UnknownCoordinateIsAnErrorButDotIsZero()
    {
        string rutile = Corpus("icsd_dot_coordinates.cif");
        Assert.That(Cif(rutile).FractionalCoordinates.Count(f => f[2] == 0), Is.EqualTo(3), "Ti at the origin and two O on z = 0");
        var error = CifFails(rutile.Replace("O1 O2- 4 f 0.3049(2) 0.3049(2) .", "O1 O2- 4 f 0.3049(2) 0.3049(2) ?"));
        Assert.That(error.Message, Does.Contain("malformed number '?'"));
    }

    [Test]
    public void EmptySitesAreSkippedAndMajorityTiesGoToTheFirstListed()
    {
        string perovskite = Corpus("disordered_perovskite.cif");
        var majority = Cif(perovskite, DisorderPolicy.Majority);
        Assert.That(majority.AtomicNumbers.Count(z => z == 56), Is.EqualTo(1), "Ba is listed before Sr");
        var empty = Cif(perovskite.Replace("Sr1 Sr2+ 0   0   0   0.5", "Sr1 Sr2+ 0   0   0   0").Replace("Ba2+ 0   0   0   0.5", "Ba2+ 0   0   0   1"));
        Assert.That(empty.FullFormula, Is.EqualTo("BaTiO2.85"));
        Assert.That(empty.DisorderedSites, Is.EqualTo(3));
    }

    [Test]
    public void VirtualSitesCarryTheirSpeciesAndOrderedFilesDoNot()
    {
        var s = Cif(Corpus("disordered_perovskite.cif"));
        Assert.That(s.Mixtures, Is.Not.Null);
        int a = Enumerable.Range(0, s.AtomCount).Single(i => s.Mixtures![i]?.Species.Count == 2);
        Assert.That(s.AtomicNumbers[a], Is.EqualTo(56));
        Assert.That(s.SpeciesWeights(a), Is.EqualTo(new[] { (56, 0.5), (38, 0.5) }));
        int o = Enumerable.Range(0, s.AtomCount).First(i => s.AtomicNumbers[i] == 8);
        Assert.That(s.SpeciesWeights(o), Is.EqualTo(new[] { (8, 1.0) }), "a vacancy's share is not a species");
        Assert.That(s.Formula, Is.EqualTo("Ba0.5Sr0.5TiO2.85"));
        Assert.That(s.Supercell(2, 1, 1).DisorderedSites, Is.EqualTo(8));
        Assert.That(Cif(Corpus("icsd_dot_coordinates.cif")).Mixtures, Is.Null);
    }

    private static readonly string NaClPoscar = File.ReadAllText(Path.Combine(MaterialsTestData.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "readers", "POSCAR_empty_comment"));

    [TestCase("Fe O", "4 4", "Fe4O4")]
    [TestCase("Fe2O3 hematite", "4 6", "Fe4O6")]
    [TestCase("O3 Fe2", "6 4", "Fe4O6")]
    [TestCase("Fe2 O3", "6 4", null)]        // amounts not in the proportion of the counts: a formula in another order
    [TestCase("System", "4 4", null)]
    [TestCase("Fe", "4 4", null)]
    public void Vasp4SpeciesFromTheComment(string comment, string counts, string? formula)
    {
        string[] positions = ["0 0 0", "0 0.5 0.5", "0.5 0 0.5", "0.5 0.5 0", "0.5 0.5 0.5", "0.5 0 0", "0 0.5 0", "0 0 0.5", "0.25 0.25 0.25", "0.75 0.75 0.75"];
        int total = counts.Split(' ').Sum(int.Parse);
        string text = $"{comment}\n4.33\n1 0 0\n0 1 0\n0 0 1\n{counts}\nDirect\n{string.Join('\n', positions.Take(total))}\n";
        if (formula is null)
        {
            var error = Assert.Throws<StructureFormatException>(() => StructureReader.Parse(text, "poscar", "POSCAR"))!;
            Assert.That(error.Message, Does.Contain("VASP 4 file without a species line"));
            Assert.That(error.Line, Is.EqualTo(6));
        }
        else
        {
            Assert.That(StructureReader.Parse(text, "poscar", "POSCAR").FullFormula, Is.EqualTo(formula));
        }
    }

    [Test]
    public void WrappedCountsAfterACommentSpeciesList()
    {
        string text = "Na Cl\n1.0\n5.62 0 0\n0 5.62 0\n0 0 5.62\n4\n4\nDirect\n" + string.Join('\n', NaClPoscar.Split('\n').Skip(8)) + "\n";
        Assert.That(StructureReader.Parse(text, "poscar", "POSCAR").FullFormula, Is.EqualTo("Na4Cl4"));
    }

    [Test]
    public void SpeciesLineThatRunsIntoTheCoordinatesIsRefusedAtItsLine()
    {
        string text = NaClPoscar.Replace("4 4\n", "");
        var error = Assert.Throws<StructureFormatException>(() => StructureReader.Parse(text, "poscar", "POSCAR"))!;
        Assert.That(error.Line, Is.EqualTo(7));
        Assert.That(error.Message, Does.Contain("expected element symbols or atom counts"));
    }
}
