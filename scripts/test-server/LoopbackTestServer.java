// The Temporal time-skipping test server (io.temporal:temporal-test-server, from Maven Central),
// bound to 127.0.0.1 only: the library's own `TestServer` main listens on every interface.
// Started by @temporalio/testing's `TestWorkflowEnvironment.createTimeSkipping` as `<launcher> <port>`.
// Time skipping starts locked, as the SDK expects (it unlocks it while a test awaits a result);
// `--enable-time-skipping` starts it unlocked, like `TestServer`'s flag of the same name.
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

public final class LoopbackTestServer {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: temporal-test-server <port> [--enable-time-skipping]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    boolean unlocked = Arrays.asList(args).subList(1, args.length).contains("--enable-time-skipping");
    TestServicesStarter services = new TestServicesStarter(!unlocked, 0);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      services.close();
    }));
    server.awaitTermination();
  }
}
