package dev.forktrace.bpf;

/** How a hook is attached: enum ft_tier of bpf/forktrace.h, or none (FT_TIER_NONE). */
public enum HookTier {
    NONE(EventLayout.TIER_NONE, "none"),
    TRACEPOINT(EventLayout.TIER_TRACEPOINT, "tracepoint"),
    KPROBE(EventLayout.TIER_KPROBE, "kprobe"),
    FENTRY(EventLayout.TIER_FENTRY, "fentry");

    private final int code;
    private final String label;

    HookTier(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    /** As doctor and the attached line print it. */
    public String label() {
        return label;
    }

    public static HookTier ofCode(int code) {
        for (HookTier tier : values()) {
            if (tier.code == code) {
                return tier;
            }
        }
        throw new IllegalArgumentException("the shim reported tier " + code + ", which this forktrace does not know");
    }
}
