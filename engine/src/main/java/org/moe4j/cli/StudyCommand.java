package org.moe4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.moe4j.study.M6tPreset;
import org.moe4j.study.ModernPreset;
import org.moe4j.study.Study;
import org.moe4j.study.StudyGrid;
import org.moe4j.study.StudyRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "study", mixinStandardHelpOptions = true,
        description = {"Train a grid of runs and summarise them: results.md, results.json and plots.",
                "A built-in study (m6t: the M6-T paper's routing experiments; modern: the routing of current MoE",
                "models) or your own grid (--grid FILE).",
                "Run it again with the same --out to continue a stopped study: finished runs are kept."})
final class StudyCommand implements Callable<Integer> {
    /** The built-in studies. */
    static final List<String> STUDIES = List.of("m6t", "modern");

    @Parameters(arity = "0..1", paramLabel = "STUDY", description = "a built-in study: ${COMPLETION-CANDIDATES}",
            completionCandidates = Studies.class)
    String study;

    @Option(names = "--preset", paramLabel = "NAME", description = "size of a built-in study: quick or full (default)")
    String preset;

    @Option(names = "--grid", paramLabel = "FILE", description = "a grid file (JSON, see docs/study.md)")
    Path gridFile;

    @Option(names = "--out", paramLabel = "DIR", description = "study directory (default: studies/<grid name>)")
    Path out;

    @Option(names = "--list", description = "print the runs of the grid and exit, training nothing")
    boolean list;

    @Override
    public Integer call() throws Exception {
        StudyGrid grid = grid();
        if (list) {
            List<StudyRun> runs = grid.runs();
            System.out.printf("study %s: %d configurations x %d seeds = %d runs%n", grid.name(), grid.configs().size(),
                    grid.seeds().size(), runs.size());
            for (StudyRun run : runs) {
                System.out.println(run.id() + "  " + run.config().describe());
            }
            return 0;
        }
        Path dir = out != null ? out : Path.of("studies", grid.name());
        Study.Outcome outcome = new Study(grid, dir, System.out).run();
        return outcome.failed() == 0 ? 0 : Main.EXIT_RUNS_FAILED;
    }

    StudyGrid grid() {
        if ((study == null) == (gridFile == null)) {
            throw new IllegalArgumentException("give a built-in study " + STUDIES + " or --grid FILE (one of them)");
        }
        if (gridFile != null) {
            if (preset != null) {
                throw new IllegalArgumentException("--preset applies to built-in studies, not to --grid");
            }
            return StudyGrid.read(gridFile);
        }
        if (!STUDIES.contains(study)) {
            throw new IllegalArgumentException("study '" + study + "' is not built in: built-in studies are " + STUDIES);
        }
        String size = preset == null ? "full" : preset;
        return study.equals("modern") ? ModernPreset.grid(size) : M6tPreset.grid(size);
    }

    /** Completion candidates of the STUDY parameter. */
    static final class Studies extends ArrayList<String> {
        Studies() {
            super(STUDIES);
        }
    }
}
