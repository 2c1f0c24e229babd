package org.moe4j.cli;

import java.util.concurrent.Callable;
import org.moe4j.train.Devices;
import picocli.CommandLine.Command;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the devices --device accepts: jvm, every OpenCL device of every platform (opencl:N) and every"
                + " CUDA device (cuda:N) with its compute capability and memory.")
final class DevicesCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        Devices.describeAll().forEach(System.out::println);
        return 0;
    }
}
