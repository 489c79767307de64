using System.CommandLine;
using SaGatSr.Cli.Commands;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;

namespace SaGatSr.Cli;

/// <summary>The `sagatsr` command tree. Handlers live in Commands/; this file only declares options and wiring.</summary>
internal static class CommandLine
{
    public static RootCommand Build(CancellationToken cancel)
    {
        var device = new Option<string?>("--device")
        {
            Description = "Compute device: auto, cuda, opencl, cpu (SIMD), ilgpu-cpu (slow, for testing) or reference. " +
                          "Default: $SAGATSR_DEVICE, else auto (the best present).",
            Recursive = true,
        };
        var root = new RootCommand(
            "SaGatSr: a self-adaptable graph attention network for crystal properties, distilled into formulas by symbolic regression.");
        root.Options.Add(device);
        root.Subcommands.Add(Devices(device));
        root.Subcommands.Add(Train(device, cancel));
        root.Subcommands.Add(Predict(device));
        root.Subcommands.Add(Screen(device, cancel));
        root.Subcommands.Add(Inspect());
        root.Subcommands.Add(Importance(device));
        root.Subcommands.Add(Sr(device, cancel));
        root.Subcommands.Add(Explain(device, cancel));
        root.Subcommands.Add(Demo(device, cancel));
        return root;
    }

    private static Command Devices(Option<string?> device)
    {
        var command = new Command("devices", "List the compute devices found and the one that would be used.");
        command.SetAction(result => DevicesCommand.Run(result.GetValue(device)));
        return command;
    }

    private sealed record TrainingOptionSet(
        Option<string?> Target, Option<int> Epochs, Option<int> BatchSize, Option<float> LearningRate, Option<int> Hidden,
        Option<int> Heads, Option<int> Layers, Option<double> Cutoff, Option<int> MaxNeighbors, Option<string> Featurizer,
        Option<string?> SplitFile, Option<double> TrainRatio, Option<double> ValidationRatio, Option<int> Seed,
        Option<int> Patience, Option<string> Loss, Option<bool> Restart, Option<string> Disorder, Option<string> StructureColumn,
        Option<string> Encoder, Option<string> Schedule, Option<double?> Warmup, Option<float> Ema, Option<float> WeightDecay,
        Option<int> Gaussians, Option<float> Dropout, Option<string> Messages, Option<int> Members, Option<string?> Ensemble,
        Option<string> Task, Option<double?> Threshold, Option<string?> Where, Option<string> ClassWeight, Option<bool> IdealCells)
    {
        // Defaults come from the library's records, so the command line and the API cannot drift apart.
        private static readonly TrainingOptions Training = new();
        private static readonly SaGatConfig Architecture = new();
        private static readonly GraphOptions Graph = new();

        public static TrainingOptionSet Create() => new(
            new Option<string?>("--target", "-t") { Description = "Target column of id_prop.csv: a header name or a 1-based index among the target columns (default: the first). Several, comma-separated (e.g. heat_ref,heat_all), train one network with an output per target." },
            new Option<int>("--epochs") { Description = "Maximum number of epochs (the cosine schedule decays over exactly this many).", DefaultValueFactory = _ => Training.Epochs },
            new Option<int>("--batch-size") { Description = "Crystals per mini-batch.", DefaultValueFactory = _ => Training.BatchSize },
            new Option<float>("--lr") { Description = "Peak learning rate (AdamW).", DefaultValueFactory = _ => Training.LearningRate },
            new Option<int>("--hidden") { Description = "Hidden width of atoms and of each feature's SAE projection.", DefaultValueFactory = _ => Architecture.Hidden },
            new Option<int>("--heads") { Description = "Attention heads per GAT layer.", DefaultValueFactory = _ => Architecture.Heads },
            new Option<int>("--layers") { Description = "Number of GAT layers.", DefaultValueFactory = _ => Architecture.Layers },
            new Option<double>("--cutoff") { Description = "Neighbour cutoff radius in Å.", DefaultValueFactory = _ => Graph.Cutoff },
            new Option<int>("--max-neighbors") { Description = "Keep at most this many nearest neighbours per atom.", DefaultValueFactory = _ => Graph.MaxNeighbors },
            new Option<string>("--featurizer") { Description = "Atom features: sae (195 named descriptors) or cgcnn (92-dim one-hot).", DefaultValueFactory = _ => Architecture.Featurizer },
            new Option<string?>("--split-file") { Description = "CSV of id,split (train/val/test) instead of a random split." },
            new Option<double>("--train-ratio") { Description = "Fraction of crystals used for training.", DefaultValueFactory = _ => Training.TrainRatio },
            new Option<double>("--val-ratio") { Description = "Fraction used for validation (early stopping); the rest is the test set.", DefaultValueFactory = _ => Training.ValidationRatio },
            new Option<int>("--seed") { Description = "Random seed (split, initial weights, shuffling).", DefaultValueFactory = _ => Training.Seed },
            new Option<int>("--patience") { Description = "Stop after this many epochs without a better validation MAE (with the cosine schedule, not before half of --epochs).", DefaultValueFactory = _ => Training.Patience },
            new Option<string>("--loss") { Description = "Training loss: mse or l1.", DefaultValueFactory = _ => Training.Loss },
            new Option<bool>("--restart") { Description = "Ignore an existing checkpoint in the output folder and train from scratch." },
            DisorderOption(), StructureColumnOption(),
            new Option<string>("--encoder") { Description = "Atom encoder: sae (self-adaptable encoding; ranks the features) or fcn (one fully connected layer; no ranking).", DefaultValueFactory = _ => Architecture.Encoder },
            new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine (decay to the minimum over --epochs after --warmup) or plateau (halve after epochs without improvement).", DefaultValueFactory = _ => Training.Schedule },
            new Option<double?>("--warmup") { Description = "Epochs of linear learning-rate warm-up (cosine schedule); default 5, or a tenth of --epochs when that is shorter." },
            new Option<float>("--ema") { Description = "Decay of the moving average of the weights that is validated and saved (0: off).", DefaultValueFactory = _ => Training.EmaDecay },
            new Option<float>("--weight-decay") { Description = "Decoupled weight decay (AdamW).", DefaultValueFactory = _ => Training.WeightDecay },
            new Option<int>("--gaussians") { Description = "Gaussians expanding each edge length over [0, cutoff].", DefaultValueFactory = _ => Graph.GaussianCount },
            new Option<float>("--dropout") { Description = "Dropout rate on the regression head while training (0: none).", DefaultValueFactory = _ => Architecture.Dropout },
            new Option<string>("--messages") { Description = "What a neighbour sends: node (its hidden vector) or edge (gated by a learned filter of the bond length).", DefaultValueFactory = _ => Architecture.Messages },
            new Option<int>("--members") { Description = "Networks in the ensemble, trained side by side on one split: one sae, then fcn and cgcnn in turn, each with its own seed. Their mean is the prediction, their calibrated spread its uncertainty. 1: a single network (--encoder, --featurizer).", DefaultValueFactory = _ => EnsembleMember.DefaultCount },
            new Option<string?>("--ensemble") { Description = "The members by kind, e.g. sae,fcn,cgcnn,sae (sae: the SAE over the descriptors; fcn: a dense layer over them; cgcnn: CGCNN's one-hot atoms). Overrides --members." },
            new Option<string>("--task") { Description = "regress (the target's value) or classify (a 0/1 column, or a numeric one cut by --threshold): a class-weighted logistic output, ROC-AUC and balanced accuracy reported, probabilities predicted.", DefaultValueFactory = _ => "regress" },
            new Option<double?>("--threshold") { Description = "With --task classify: class 1 is target > this value (e.g. --target dir_gap --threshold 0: non-metals)." },
            new Option<string?>("--where") { Description = "Use only crystals meeting these conditions on numeric columns, e.g. \"dir_gap > 0\" (comma-separated conditions all hold); recorded in the model." },
            new Option<string>("--class-weight") { Description = "With --task classify: the loss weight of class 1: balanced (negatives/positives of the training crystals), none (1) or a number.", DefaultValueFactory = _ => "balanced" },
            new Option<bool>("--ideal-cells") { Description = "Train on the ideal cubic cell of each crystal's composition (the dataset's ABX3 formula column), as screen builds them, so that screening predicts from ideal cells what it learned from them." });

        public void AddTo(Command command)
        {
            foreach (var option in new Option[]
                     {
                         Target, Epochs, BatchSize, LearningRate, Hidden, Heads, Layers, Cutoff, MaxNeighbors, Featurizer,
                         SplitFile, TrainRatio, ValidationRatio, Seed, Patience, Loss, Restart, Disorder, StructureColumn, Encoder,
                         Schedule, Warmup, Ema, WeightDecay, Gaussians, Dropout, Messages, Members, Ensemble, Task, Threshold, Where, ClassWeight, IdealCells,
                     })
                command.Options.Add(option);
        }

        public TrainArguments Read(ParseResult r, string dataset, string output, string? device) => new(
            dataset, r.GetValue(Target), output, device, r.GetValue(Epochs), r.GetValue(BatchSize), r.GetValue(LearningRate),
            r.GetValue(Hidden), r.GetValue(Heads), r.GetValue(Layers), r.GetValue(Cutoff), r.GetValue(MaxNeighbors),
            r.GetValue(Featurizer)!, r.GetValue(SplitFile), r.GetValue(TrainRatio), r.GetValue(ValidationRatio),
            r.GetValue(Seed), r.GetValue(Patience), r.GetValue(Loss)!, !r.GetValue(Restart),
            StructureReader.ParseDisorderPolicy(r.GetValue(Disorder)!), r.GetValue(StructureColumn)!, r.GetValue(Encoder)!,
            r.GetValue(Schedule)!, r.GetValue(Warmup), r.GetValue(Ema), r.GetValue(WeightDecay), r.GetValue(Gaussians), r.GetValue(Dropout),
            r.GetValue(Messages)!, r.GetValue(Members), r.GetValue(Ensemble), TargetTask.Parse(r.GetValue(Task)!), r.GetValue(Threshold),
            r.GetValue(Where), r.GetValue(ClassWeight)!, r.GetValue(IdealCells));
    }

    /// <summary>--structure-column, for datasets kept as one CSV or Matbench JSON file.</summary>
    private static Option<string> StructureColumnOption() => new("--structure-column")
    {
        Description = "In a CSV or Matbench-style JSON dataset, the column holding each structure (CIF or POSCAR text in a CSV; a " +
                      "pymatgen Structure in JSON, where 'structure' is also tried).",
        DefaultValueFactory = _ => Dataset.DefaultStructureColumn,
    };

    private const string DatasetDescription =
        "A dataset: a folder of structures (CIF, POSCAR, extended XYZ, pymatgen JSON) with id_prop.csv; a CSV with a structure column " +
        "(CDVAE/DiffCSP style: material_id, cif, properties); a Matbench-style dataset JSON (.json or .json.gz); or a multi-frame " +
        "extended XYZ file whose frames carry their properties.";

    /// <summary>--disorder, shared by every command that reads structures.</summary>
    private static Option<string> DisorderOption()
    {
        var option = new Option<string>("--disorder")
        {
            Description = "Partially occupied (disordered) sites: virtual (one site with the occupancy-weighted mean element features " +
                          "of its species, a virtual crystal), majority (its majority species) or error (refuse the file). " +
                          "The number of such sites is reported.",
            DefaultValueFactory = _ => "virtual",
        };
        option.AcceptOnlyFromAmong("virtual", "majority", "error");
        return option;
    }

    private static Command Train(Option<string?> device, CancellationToken cancel)
    {
        var dataset = new Argument<string>("dataset") { Description = DatasetDescription };
        var output = new Option<string?>("--out", "-o") { Description = "Output folder for the model, checkpoint and report (default: runs/<dataset>)." };
        var options = TrainingOptionSet.Create();
        var command = new Command("train", "Train SA-GAT on a dataset; writes model.sagat, a checkpoint each epoch, metrics and plots.");
        command.Arguments.Add(dataset);
        command.Options.Add(output);
        options.AddTo(command);
        command.SetAction(r =>
        {
            var folder = r.GetValue(dataset)!;
            return TrainCommand.Run(options.Read(r, folder, r.GetValue(output) ?? DefaultOutput(folder), r.GetValue(device)), cancel);
        });
        return command;
    }

    private static Command Predict(Option<string?> device)
    {
        var model = new Argument<string>("model")
        {
            Description = "A model.sagat written by train or explain, or a formula.json written by explain (its descriptors are computed for each structure).",
        };
        var structures = new Argument<string[]>("structures")
        {
            Description = "Structure files, folders of them, or dataset files (CSV with a structure column, Matbench JSON, multi-frame extended XYZ).",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--out", "-o") { Description = "CSV file to write (default: standard output)." };
        var batch = new Option<int>("--batch-size") { Description = "Crystals per batch.", DefaultValueFactory = _ => 64 };
        var disorder = DisorderOption();
        var structureColumn = StructureColumnOption();
        var gate = new Option<string?>("--gate") { Description = "A classifier (train --task classify) of whether the value is non-zero, e.g. of dir_gap > 0: MODEL is then a regressor trained where it is (--where \"dir_gap > 0\") and each row gets the two-stage value." };
        var combine = new Option<string>("--combine") { Description = "With --gate: expected (probability x value) or gate (value where the class is 1, else 0).", DefaultValueFactory = _ => "expected" };
        var command = new Command("predict", "Predict the target for structures with a trained model; CSV out (id,file,prediction): a dataset file's own ids, " +
                                             "and its file and line. Unreadable files and rows are reported and skipped (exit code 3).");
        command.Arguments.Add(model);
        command.Arguments.Add(structures);
        command.Options.Add(output);
        command.Options.Add(batch);
        command.Options.Add(disorder);
        command.Options.Add(structureColumn);
        command.Options.Add(gate);
        command.Options.Add(combine);
        command.SetAction(r => PredictCommand.Run(r.GetValue(model)!, r.GetValue(structures)!, r.GetValue(output),
            r.GetValue(batch), r.GetValue(device), StructureReader.ParseDisorderPolicy(r.GetValue(disorder)!), r.GetValue(structureColumn)!,
            r.GetValue(gate), r.GetValue(combine)!));
        return command;
    }

    private static Command Screen(Option<string?> device, CancellationToken cancel)
    {
        var model = new Argument<string>("model") { Description = "A model.sagat written by train (an ensemble's also gives each prediction's uncertainty)." };
        var a = new Option<string?>("--a") { Description = "A-site cations, comma-separated: \"Ca,Sr,Ba\"." };
        var b = new Option<string?>("--b") { Description = "B-site cations, comma-separated: \"Ti,Zr,Hf\"." };
        var x = new Option<string?>("--x") { Description = "X3 anion sets, comma-separated: \"O3,O2N,O2F,OFN\" (O, S, Se, Te -2; N -3; F, Cl, Br, I -1)." };
        var candidates = new Option<string?>("--candidates") { Description = "CSV with a formula column (A, B, anions: SrTiO3, BaTaO2N) instead of the lists; an id column is kept." };
        var formula = new Option<string?>("--formula") { Description = "A formula.json written by explain: its prediction is written beside the network's." };
        var output = new Option<string>("--out", "-o") { Description = "Folder for ranked.csv, dropped.csv and the plot.", DefaultValueFactory = _ => Path.Combine("runs", "screen") };
        var rank = new Option<string>("--rank") { Description = "Rank by the prediction, or by lcb: the pessimistic end of the 90% interval (mean - 1.645 std with --goal max, + with min; needs an ensemble).", DefaultValueFactory = _ => "prediction" };
        var goal = new Option<string>("--goal") { Description = "max: high predictions first; min: low ones first (formation energies).", DefaultValueFactory = _ => "max" };
        var lattice = new Option<string>("--lattice") { Description = "Lattice parameter of the ideal cubic cells: bond-valence (B's bond-valence sum equals its charge) or shannon (r_B + r_X).", DefaultValueFactory = _ => "bond-valence" };
        var states = new Option<string>("--states") { Description = "Cation oxidation states that may balance the charge: common, icsd (also those seen in ICSD) or all (any known).", DefaultValueFactory = _ => "common" };
        var top = new Option<int>("--top") { Description = "Best candidates printed.", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch-size") { Description = "Crystals per network batch.", DefaultValueFactory = _ => 256 };
        var chunk = new Option<int>("--chunk-size") { Description = "Candidates built, featurised and predicted together (bounds memory).", DefaultValueFactory = _ => 4096 };
        var command = new Command("screen",
            "Screen new ABX3 perovskites: enumerate compositions (or read them), keep the charge-balanced ones, build ideal cubic cells, " +
            "predict, and write them ranked (ranked.csv) with the dropped ones and why (dropped.csv).");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { a, b, x, candidates, formula, output, rank, goal, lattice, states, top, batch, chunk }) command.Options.Add(option);
        command.SetAction(r => ScreenCommand.Run(new ScreenArguments(r.GetValue(model)!, r.GetValue(a), r.GetValue(b), r.GetValue(x),
            r.GetValue(candidates), r.GetValue(formula), r.GetValue(output)!, r.GetValue(rank)!, r.GetValue(goal)!, r.GetValue(lattice)!, r.GetValue(states)!,
            r.GetValue(top), r.GetValue(batch), r.GetValue(chunk), r.GetValue(device)), cancel));
        return command;
    }

    private static Command Inspect()
    {
        var paths = new Argument<string[]>("paths") { Description = "Structure files, or folders of them.", Arity = ArgumentArity.OneOrMore };
        var csv = new Option<bool>("--csv") { Description = "Print CSV instead of a table." };
        var disorder = DisorderOption();
        var command = new Command("inspect",
            "One row per structure: file, id, formula, sites, volume, cell, space group (as the file names it, else detected " +
            "from the atoms with a 0.01 Å tolerance), " +
            "disordered sites and the reading error if any. Run it first on a new dataset. Exit code 3 when some file could not be read.");
        command.Arguments.Add(paths);
        command.Options.Add(csv);
        command.Options.Add(disorder);
        command.SetAction(r => InspectCommand.Run(r.GetValue(paths)!, r.GetValue(csv), StructureReader.ParseDisorderPolicy(r.GetValue(disorder)!)));
        return command;
    }

    private static Command Importance(Option<string?> device)
    {
        var model = new Argument<string>("model") { Description = "A model.sagat written by train or explain." };
        var top = new Option<int>("--top", "-k") { Description = "How many features to list (0: all).", DefaultValueFactory = _ => 20 };
        var csv = new Option<bool>("--csv") { Description = "Print CSV instead of a table." };
        var command = new Command("importance", "Rank the input features by the model's SAE importance coefficients.");
        command.Arguments.Add(model);
        command.Options.Add(top);
        command.Options.Add(csv);
        command.SetAction(r => ImportanceCommand.Run(r.GetValue(model)!, r.GetValue(top), r.GetValue(csv), r.GetValue(device)));
        return command;
    }

    private sealed record SrOptionSet(Option<string> Engine, Option<string?> Operators, Option<int> MaxComplexity,
        Option<double> TimeLimit, Option<int> SrSeed, Option<int> Rungs, Option<int> MaxTerms, Option<string?> Units,
        Option<bool> Exhaustive, Option<int> SubspaceSize, Option<int> RungParents, Option<int> MaxFeatureComplexity,
        Option<int> FeatureOperators)
    {
        public static SrOptionSet Create() => new(
            new Option<string>("--engine") { Description = "sisso (feature space + L0 search) or gp (genetic programming).", DefaultValueFactory = _ => "sisso" },
            new Option<string?>("--operators") { Description = "Comma-separated operators, from: +,-,*,/,exp,log,sqrt,cbrt,^-1,^2,^3,|a-b| (default: all). Quote the list in a shell." },
            new Option<int>("--max-complexity") { Description = "Largest formula size (nodes) considered.", DefaultValueFactory = _ => 30 },
            new Option<double>("--time-limit") { Description = "Seconds the search may take at most.", DefaultValueFactory = _ => 120 },
            new Option<int>("--sr-seed") { Description = "Random seed of the search.", DefaultValueFactory = _ => 1 },
            new Option<int>("--rungs") { Description = "SISSO: operator applications nested at most this deep.", DefaultValueFactory = _ => 2 },
            new Option<int>("--max-terms") { Description = "SISSO: largest number of terms in the linear model.", DefaultValueFactory = _ => 3 },
            new Option<string?>("--units") { Description = "SISSO: physical units of features, e.g. \"a=m;b=s;c=m s^-1\"; only dimensionally valid combinations are built." },
            new Option<bool>("--exhaustive") { Description = "SISSO: build SISSO's full feature space with its rules (every rung extends every feature below it), streamed; features are bounded by --rungs and --feature-operators, models not by --max-complexity. Runs on the CPU (a fused SIMD kernel) whatever --device says." },
            new Option<int>("--subspace-size") { Description = "SISSO: features screened into the subspace per model dimension (SISSO's nf_sis; default 100)." },
            new Option<int>("--rung-parents") { Description = "SISSO without --exhaustive: rungs >= 2 extend the primaries plus this many best lower-rung features.", DefaultValueFactory = _ => 60 },
            new Option<int>("--max-feature-complexity") { Description = "SISSO without --exhaustive: largest size (nodes) of one feature.", DefaultValueFactory = _ => 9 },
            new Option<int>("--feature-operators") { Description = "SISSO: most operators in one feature (SISSO's fcomplexity; 0: bounded by --rungs only)." });

        public void AddTo(Command command)
        {
            foreach (var option in new Option[]
                     {
                         Engine, Operators, MaxComplexity, TimeLimit, SrSeed, Rungs, MaxTerms, Units, Exhaustive, SubspaceSize, RungParents,
                         MaxFeatureComplexity, FeatureOperators,
                     })
                command.Options.Add(option);
        }

        public SrArguments Read(ParseResult r, string? device) => new(r.GetValue(Engine)!, r.GetValue(Operators),
            r.GetValue(MaxComplexity), r.GetValue(TimeLimit), r.GetValue(SrSeed), r.GetValue(Rungs), r.GetValue(MaxTerms), device,
            r.GetValue(Units), r.GetValue(Exhaustive), r.GetValue(SubspaceSize), r.GetValue(RungParents), r.GetValue(MaxFeatureComplexity),
            r.GetValue(FeatureOperators));
    }

    private static Command Sr(Option<string?> device, CancellationToken cancel)
    {
        var table = new Argument<string>("table") { Description = "CSV with a header: feature columns and the target column." };
        var target = new Option<string>("--target", "-t") { Description = "Name of the target column.", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for formulas, Pareto CSV and plot (default: runs/sr-<table>)." };
        var options = SrOptionSet.Create();
        var command = new Command("sr", "Symbolic regression on a table: a Pareto front of formulas, complexity against error.");
        command.Arguments.Add(table);
        command.Options.Add(target);
        command.Options.Add(output);
        options.AddTo(command);
        command.SetAction(r =>
        {
            var path = r.GetValue(table)!;
            return SrCommand.Run(path, r.GetValue(target)!,
                r.GetValue(output) ?? Path.Combine("runs", "sr-" + Path.GetFileNameWithoutExtension(path)),
                options.Read(r, r.GetValue(device)), cancel);
        });
        return command;
    }

    private static Command Explain(Option<string?> device, CancellationToken cancel)
    {
        var dataset = new Argument<string>("dataset") { Description = DatasetDescription };
        var output = new Option<string?>("--out", "-o") { Description = "Report folder (default: runs/explain-<dataset>)." };
        var model = new Option<string?>("--model") { Description = "Use this trained model instead of training one." };
        var topK = new Option<int?>("--top-k") { Description = "Features kept for SR (default: the documented rule in README)." };
        var withPrediction = new Option<bool>("--with-prediction") { Description = "Also give SR the network's prediction as an input feature." };
        var training = TrainingOptionSet.Create();
        var sr = SrOptionSet.Create();
        var command = new Command("explain",
            "SA-GAT-SR: train (or load) SA-GAT, rank features by SAE importance, run SR on the top k, write a report.");
        command.Arguments.Add(dataset);
        foreach (var option in new Option[] { output, model, topK, withPrediction }) command.Options.Add(option);
        training.AddTo(command);
        sr.AddTo(command);
        command.SetAction(r =>
        {
            var folder = r.GetValue(dataset)!;
            var outFolder = r.GetValue(output) ?? Path.Combine("runs", "explain-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
            return ExplainCommand.Run(new ExplainArguments(training.Read(r, folder, Path.Combine(outFolder, "model"), r.GetValue(device)),
                sr.Read(r, r.GetValue(device)), outFolder, r.GetValue(model), r.GetValue(topK), r.GetValue(withPrediction)), cancel);
        });
        return command;
    }

    private static Command Demo(Option<string?> device, CancellationToken cancel)
    {
        var output = new Option<string>("--out", "-o") { Description = "Report folder.", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 30 };
        var command = new Command("demo", "Run the whole SA-GAT-SR pipeline (explain) on the shipped perovskites: heat of formation, formulas in site terms.");
        command.Options.Add(output);
        command.Options.Add(epochs);
        command.SetAction(r => ExplainCommand.RunDemo(r.GetValue(output)!, r.GetValue(epochs), r.GetValue(device), cancel));
        return command;
    }

    private static string DefaultOutput(string dataset) =>
        Path.Combine("runs", Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataset))));
}
