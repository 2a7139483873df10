package dev.forktrace.junit;

import dev.forktrace.api.ForktraceProbe;
import dev.forktrace.api.Target;
import dev.forktrace.proto.v1.Cause;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * JUnit 5 extension behind {@link TraceForks}: one probe per test class on the test JVM's process tree
 * (attached once, because loading BPF programs takes a moment), failures sliced per test.
 */
public final class ForktraceExtension implements BeforeEachCallback, AfterTestExecutionCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ForktraceExtension.class);

    /** Closes the probe when the class's store is closed. */
    private record ProbeResource(ForktraceProbe probe) implements AutoCloseable {
        @Override
        public void close() {
            probe.close();
        }
    }

    private static ForktraceProbe probe(ExtensionContext context) {
        ExtensionContext classContext = context.getParent().filter(p -> p.getTestClass().isPresent()).orElse(context);
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(ProbeResource.class,
                key -> new ProbeResource(ForktraceProbe.attach(Target.processTree(ProcessHandle.current().pid()))),
                ProbeResource.class).probe();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        ForktraceProbe probe = probe(context);
        // Failures from before this test (the last one's @AfterEach, the JVM's own threads) may still be on
        // their way to failures(): the window opens only after they arrived, or they would count in it.
        try {
            probe.flush(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        context.getStore(NAMESPACE).put(ForkFailures.class, new ForkFailures(probe, probe.failures().size()));
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        ForkFailures failures = context.getStore(NAMESPACE).get(ForkFailures.class, ForkFailures.class);
        String diagnosis = failures.diagnosis();
        Optional<Throwable> thrown = context.getExecutionException();
        if (thrown.isPresent()) { // the test failed on its own: put the diagnosis where its report is read
            context.publishReportEntry("forktrace", diagnosis);
            System.err.println(diagnosis);
            return;
        }
        TraceForks settings = settings(context);
        if (settings == null) {
            return;
        }
        Set<Cause> observed = failures.causes();
        Set<Cause> expected = settings.expect().length == 0 ? EnumSet.noneOf(Cause.class)
                : EnumSet.copyOf(java.util.Arrays.asList(settings.expect()));
        Set<Cause> missing = EnumSet.copyOf(expected);
        missing.removeAll(observed);
        Set<Cause> unexpected = EnumSet.copyOf(observed);
        unexpected.removeAll(expected);
        if (!missing.isEmpty() || (settings.failOnUnexpected() && !unexpected.isEmpty())) {
            context.publishReportEntry("forktrace", diagnosis);
            throw new AssertionError("forktrace: expected causes " + expected + ", observed " + observed
                    + (missing.isEmpty() ? "" : "; missing " + missing)
                    + (unexpected.isEmpty() ? "" : "; unexpected " + unexpected) + "\n" + diagnosis);
        }
    }

    private static TraceForks settings(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getTestMethod(), TraceForks.class)
                .or(() -> AnnotationSupport.findAnnotation(context.getTestClass(), TraceForks.class))
                .orElse(null);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ForkFailures.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getStore(NAMESPACE).get(ForkFailures.class, ForkFailures.class);
    }
}
