package dev.redlock.testkit;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit Jupiter extension that injects {@link RedisServers} into test method, lifecycle method and constructor
 * parameters (see {@link RedisNodes}) and keeps them clean between tests.
 *
 * <ul>
 *   <li>Groups are shared by all tests of a test class, one per distinct ({@code value}, {@code persistence},
 *       {@code clusterMode}) of {@link RedisNodes}, started on first use and closed when the class is done (and at
 *       the latest at JVM exit). {@code @Nested} classes share the groups of their enclosing class.</li>
 *   <li>Before each test, every group of the class is brought back to a clean state with
 *       {@link RedisServers#reset()}: paused nodes are resumed, killed nodes restarted on their ports, pending
 *       delayed restarts cancelled and all data flushed (cluster-mode nodes also get all slots back). A test can
 *       therefore kill, pause or fill nodes freely.</li>
 * </ul>
 *
 * <p>Register it with {@code @ExtendWith(RedisServersExtension.class)} on the class, or just annotate parameters
 * with {@link RedisNodes}, which registers it. Blocking work (starting, resetting) happens on the test thread.
 *
 * @since 0.1.0
 */
public final class RedisServersExtension implements ParameterResolver, BeforeEachCallback {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(RedisServersExtension.class);

    /** Creates the extension; JUnit does this when it is registered. */
    public RedisServersExtension() {
    }

    /** Supports parameters of type {@link RedisServers}, annotated with {@link RedisNodes} or not. */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RedisServers.class;
    }

    /**
     * Returns the class's group for the parameter's {@link RedisNodes} settings, starting it on first use.
     *
     * @throws ParameterResolutionException when the settings are invalid or the nodes cannot be started
     */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Parameter parameter = parameterContext.getParameter();
        Optional<RedisNodes> nodes = parameterContext.findAnnotation(RedisNodes.class);
        int count = nodes.map(RedisNodes::value).orElse(1);
        NodeOptions options = NodeOptions.defaults()
                .withPersistence(nodes.map(RedisNodes::persistence).orElse(false))
                .withClusterMode(nodes.map(RedisNodes::clusterMode).orElse(false));
        if (count < 1) {
            throw new ParameterResolutionException("@RedisNodes(value = " + count + ") on parameter '" + parameter
                    + "' of " + parameter.getDeclaringExecutable() + ": the node count must be at least 1");
        }
        ExtensionContext classContext = classContext(extensionContext);
        ClassGroups groups = classContext.getStore(NAMESPACE)
                .computeIfAbsent(ClassGroups.class, key -> new ClassGroups(), ClassGroups.class);
        try {
            return groups.get(count, options);
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("Cannot start " + count + " redis node(s)"
                    + (options.persistence() ? " with persistence" : "")
                    + (options.clusterMode() ? " in cluster mode" : "") + " for parameter '" + parameter + "' of "
                    + parameter.getDeclaringExecutable() + ": " + e.getMessage(), e);
        }
    }

    /** Resets every group of the current test class (and of enclosing classes) to a clean state. */
    @Override
    public void beforeEach(ExtensionContext context) {
        Set<ClassGroups> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent()) {
            if (!isClassContext(c.get())) {
                continue;
            }
            ClassGroups groups = c.get().getStore(NAMESPACE).get(ClassGroups.class, ClassGroups.class);
            if (groups != null && seen.add(groups)) {
                groups.resetAll();
            }
        }
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent()) {
            if (isClassContext(c.get())) {
                return c.get();
            }
        }
        throw new ParameterResolutionException("RedisServers can only be injected within a test class, not in "
                + context.getUniqueId());
    }

    private static boolean isClassContext(ExtensionContext context) {
        Optional<AnnotatedElement> element = context.getElement();
        return element.isPresent() && element.get() instanceof Class;
    }

    /** The groups of one test class, closed by JUnit with the class's extension context. */
    static final class ClassGroups implements AutoCloseable {

        private final Map<String, RedisServers> groups = new LinkedHashMap<>();
        private boolean closed;

        synchronized RedisServers get(int count, NodeOptions options) {
            if (closed) {
                throw new IllegalStateException("the RedisServers of this test class are already closed");
            }
            String key = count + (options.persistence() ? "/persistent" : "/volatile")
                    + (options.clusterMode() ? "/cluster" : "");
            RedisServers servers = groups.get(key);
            if (servers == null) {
                servers = RedisServers.start(count, options);
                groups.put(key, servers);
            }
            return servers;
        }

        void resetAll() {
            for (RedisServers servers : snapshot()) {
                servers.reset();
            }
        }

        private synchronized List<RedisServers> snapshot() {
            return new ArrayList<>(groups.values());
        }

        @Override
        public void close() {
            List<RedisServers> toClose;
            synchronized (this) {
                closed = true;
                toClose = new ArrayList<>(groups.values());
                groups.clear();
            }
            RuntimeException failure = null;
            for (RedisServers servers : toClose) {
                try {
                    servers.close();
                } catch (RuntimeException e) {
                    failure = RedisServers.addFailure(failure, e);
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }
}
