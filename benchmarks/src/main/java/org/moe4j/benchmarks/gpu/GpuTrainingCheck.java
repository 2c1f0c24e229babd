package org.moe4j.benchmarks.gpu;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.moe4j.kernels.Device;
import org.moe4j.kernels.cuda.CudaDevice;
import org.moe4j.train.ConfigLoader;
import org.moe4j.train.Devices;
import org.moe4j.train.RunDirectory;
import org.moe4j.train.TrainConfig;
import org.moe4j.train.Trainer;

/**
 * Trains the default model ({@link TrainConfig#DEFAULT}) for {@value #STEPS} steps on {@code jvm}
 * and on {@code cuda:0} from the same seed and writes both loss curves and their largest relative
 * difference as JSON; exits 1 when it exceeds {@value #RELATIVE_TOLERANCE}.
 *
 * <pre>GpuTrainingCheck OUT.json WORK_DIR</pre>
 */
public final class GpuTrainingCheck {
    static final int STEPS = 20;
    /** Largest |loss_cuda - loss_jvm| / loss_jvm allowed at any step, as for OpenCL. */
    static final double RELATIVE_TOLERANCE = 1e-5;

    private GpuTrainingCheck() {
    }

    /** What {@link GpuReport} reads: the GPU, what ran the GEMMs, the worst relative difference and both curves. */
    record Result(String device, String gemms, int steps, double worstRelative, double tolerance, List<Float> jvm,
                  List<Float> cuda) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: GpuTrainingCheck OUT.json WORK_DIR, got " + List.of(args));
        }
        TrainConfig config = new ConfigLoader(TrainConfig.DEFAULT).set("steps", Integer.toString(STEPS)).build();
        Path work = Path.of(args[1]);
        List<Float> cuda;
        String gemms;
        try (CudaDevice device = CudaDevice.open(0)) {
            cuda = train(config, device, work.resolve("cuda"));
            gemms = device.gemms();
        }
        List<Float> jvm;
        try (Device device = Devices.open("jvm")) {
            jvm = train(config, device, work.resolve("jvm"));
        }
        double worst = 0;
        for (int i = 0; i < STEPS; i++) {
            worst = Math.max(worst, Math.abs(cuda.get(i) - jvm.get(i)) / jvm.get(i));
        }
        Result result = new Result(CudaDevice.list().getFirst().describe(), gemms, STEPS, worst, RELATIVE_TOLERANCE,
                jvm, cuda);
        Files.writeString(Path.of(args[0]), new GsonBuilder().setPrettyPrinting()
                .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create().toJson(result) + "\n");
        System.out.printf("training check: worst relative loss difference %.3g over %d steps (allowed %.0e)%n", worst,
                STEPS, RELATIVE_TOLERANCE);
        if (!(worst <= RELATIVE_TOLERANCE)) {
            System.exit(1);
        }
    }

    private static List<Float> train(TrainConfig config, Device device, Path dir) throws IOException {
        Trainer trainer = Trainer.start(config, device, RunDirectory.at(dir),
                new PrintStream(OutputStream.nullOutputStream()));
        trainer.run();
        return trainer.losses();
    }
}
