package dev.forktrace.junit;

import dev.forktrace.proto.v1.Cause;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Records the failed task creations (fork, clone, thread start) of the test JVM and its child processes
 * during each test. On a class it applies to every test; on a method it overrides the class.
 *
 * <pre>{@code
 * @TraceForks(expect = Cause.PIDS_CGROUP_LIMIT)
 * @Test
 * void threadsHitThePidsLimit(ForkFailures failures) { ... }
 * }</pre>
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Inherited
@ExtendWith(ForktraceExtension.class)
public @interface TraceForks {
    /** Causes the test must observe; the test fails, with a diagnosis, when one is missing. */
    Cause[] expect() default {};

    /** Fail the test when a failure of a cause not in {@link #expect()} happens. */
    boolean failOnUnexpected() default true;
}
