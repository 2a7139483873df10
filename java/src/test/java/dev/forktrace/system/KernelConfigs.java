package dev.forktrace.system;

/** Test access to KernelConfig's parser. */
public final class KernelConfigs {
    private KernelConfigs() {}

    public static KernelConfig parse(String source, String text) {
        return KernelConfig.parse(source, text);
    }
}
