package org.moe4j.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.ParallelLayout;
import org.moe4j.train.ScalePlan;
import org.moe4j.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Print what a training run needs on each of W ranks, and whether it fits.",
                "Without building anything: parameters, FLOPs per token, bytes per rank (parameters, gradients,",
                "AdamW moments, activations, all-to-all buffers), traffic per step, the largest tensor, whether it",
                "fits --device-memory, and the heap to pass. The config is read as train reads it (defaults,",
                "--config, --set). Layout: world = ep x dp, experts sharded over ep ranks and replicated over dp,",
                "every other parameter on all W ranks."})
final class PlanCommand implements Callable<Integer> {
    private static final Pattern SIZE = Pattern.compile("(?i)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([kmgtp]?i?b?)\\s*");

    @Option(names = "--config", paramLabel = "FILE", description = "JSON config file (snake_case fields)")
    Path configFile;

    @Option(names = "--set", paramLabel = "FIELD=VALUE", description = "set any config field, e.g. recompute=true")
    Map<String, String> sets = new LinkedHashMap<>();

    @Option(names = "--world", required = true, paramLabel = "N", description = "ranks in all (W)")
    int world;

    @Option(names = "--ep", paramLabel = "N",
            description = "ranks the experts are sharded over (default: the largest divisor of E that divides W)")
    Integer ep;

    @Option(names = "--shard-optimizer", description = "ZeRO-1: AdamW moments of replicated parameters split over their replicas")
    Boolean shardOptimizer;

    @Option(names = "--comm-dtype", paramLabel = "fp32|bf16", description = "element type of the token all-to-alls")
    String commDtype;

    @Option(names = "--device-memory", paramLabel = "SIZE",
            description = "memory of each rank's device, e.g. 32GiB (binary) or 32GB (decimal); says whether the plan fits")
    String deviceMemory;

    @Override
    public Integer call() {
        ConfigLoader loader = new ConfigLoader(TrainConfig.DEFAULT);
        if (configFile != null) {
            loader.file(configFile);
        }
        sets.forEach(loader::set);
        if (ep != null) {
            loader.set("parallel.ep", ep.toString());
        }
        if (shardOptimizer != null) {
            loader.set("parallel.shard_optimizer", shardOptimizer.toString());
        }
        if (commDtype != null) {
            loader.set("parallel.comm_dtype", commDtype);
        }
        TrainConfig config = loader.build();
        ScalePlan plan = ScalePlan.of(config, ParallelLayout.of(config, world));
        System.out.print(plan.table(deviceMemory == null ? null : parseBytes(deviceMemory)));
        return 0;
    }

    /** {@code 32GiB}, {@code 32g} (binary), {@code 32GB} (decimal), {@code 1.5TiB}, or plain bytes. */
    static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("--device-memory " + text + " is not a size: give e.g. 32GiB, 32GB or 512MiB");
        }
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        int power = unit.isEmpty() || unit.equals("b") ? 0 : "kmgtp".indexOf(unit.charAt(0)) + 1;
        boolean decimal = unit.length() == 2 && unit.endsWith("b");
        double scale = Math.pow(decimal ? 1000 : 1024, power);
        return (long) Math.ceil(Double.parseDouble(m.group(1)) * scale);
    }
}
