package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What a server finds on a host shared with other servers: the namespace and link a dead holder of
 * a slot left behind are removed by the next holder, and a server's start-up sweep removes its own
 * leftovers and no other server's. Needs root, {@code ip} and {@code nft}.
 */
class NetworkNamespacesTest {

  static void ip(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    ProcessTrees.run(command, "");
  }

  static String output(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void theNextHolderOfADeadServersSlot_removesItsLeftovers_andASweepOnlyItsOwn() throws Exception {
    Assumptions.assumeTrue(
        LinuxSandboxDriver.isRoot()
            && ProcessTrees.executable("ip").isPresent()
            && ProcessTrees.executable("nft").isPresent(),
        "needs root, ip and nft");
    // slot s is this test's on the real host (so no server beside it uses its addresses); in the
    // test's own lock directory every other slot is taken, so the server under test must take s
    HostSlots.Claim reserved =
        HostSlots.at(HostSlots.NETWORK_SLOTS, NetworkNamespaces.SLOTS).claim();
    int s = reserved.slot();
    Path locks = Files.createTempDirectory("kiln-slots-");
    HostSlots slots = HostSlots.at(locks, NetworkNamespaces.SLOTS);
    List<HostSlots.Claim> others = new java.util.ArrayList<>();
    HostSlots.Claim mine = null;
    for (int i = 0; i < NetworkNamespaces.SLOTS; i++) {
      HostSlots.Claim c = slots.claim();
      if (c.slot() == s) {
        mine = c;
      } else {
        others.add(c);
      }
    }
    mine.release();
    // what a server killed with -9 holding slot s left in its lock file (the kernel dropped the
    // lock)
    Files.writeString(locks.resolve(s + ".lock"), "kiln-dead0001-0123456789ab kdead0001-" + s);
    String deadNs = "kiln-dead0001-0123456789ab";
    String deadLink = "kdead0001-" + s;
    String ownLeftover = "kiln-feed0002-aaaaaaaaaaaa";
    String othersLive = "kiln-beef0003-bbbbbbbbbbbb";
    NetworkNamespaces n = null;
    try {
      ip("netns", "add", deadNs);
      ip("link", "add", deadLink, "type", "veth", "peer", "name", "eth0", "netns", deadNs);
      ip("netns", "add", ownLeftover);
      ip("netns", "add", othersLive);
      Path state = Files.createTempDirectory("kiln-state-");
      n =
          NetworkNamespaces.create(
                  state, "feed0002", 9, false, Executors.newCachedThreadPool(), slots)
              .orElseThrow();
      n.sweep();
      assertThat(Path.of("/run/netns", ownLeftover)).as("its own leftover").doesNotExist();
      assertThat(Path.of("/run/netns", othersLive)).as("another server's namespace").exists();

      InstanceNetwork network = n.take(false);
      assertThat(network.slot()).isEqualTo(s);
      assertThat(network.namespace()).startsWith("kiln-feed0002-");
      assertThat(Path.of("/run/netns", deadNs)).as("the dead holder's namespace").doesNotExist();
      assertThat(Path.of("/sys/class/net", deadLink)).as("the dead holder's link").doesNotExist();
      assertThat(Path.of("/sys/class/net", "kfeed0002-" + s)).exists();
      assertThat(Files.readString(locks.resolve(s + ".lock")))
          .isEqualTo(network.namespace() + " kfeed0002-" + s);
      n.remove(network);
      assertThat(Path.of("/run/netns", network.namespace())).doesNotExist();
    } finally {
      if (n != null) {
        n.close();
      }
      for (String ns : List.of(deadNs, ownLeftover, othersLive)) {
        if (Files.exists(Path.of("/run/netns", ns))) {
          ip("netns", "delete", ns);
        }
      }
      others.forEach(HostSlots.Claim::release);
      reserved.release();
    }
  }

  /**
   * Each end of an instance's veth pair knows the other's hardware address from the start (a
   * permanent neighbour entry), so an instance's first connection to its Runtime API waits for no
   * ARP exchange.
   */
  @Test
  void aNewNetwork_knowsBothEndsNeighboursFromTheStart() throws Exception {
    NetworkNamespaces n = fresh("feed0004", false);
    try {
      // nothing made ahead: the host's side is made on demand, the inside by the starter
      InstanceNetwork onDemand = n.take(false);
      assertThat(onDemand.configured()).isFalse();
      assertThat(output("ip", "-n", onDemand.namespace(), "addr", "show", "dev", "eth0"))
          .doesNotContain("inet ");
      InstanceNetwork network = n.configureInside(onDemand);
      assertThat(network.configured()).isTrue();
      assertThat(output("ip", "-n", network.namespace(), "addr", "show", "dev", "eth0"))
          .contains("inet " + network.instanceAddress() + "/30");
      String inside = output("ip", "-n", network.namespace(), "neigh", "show");
      assertThat(inside)
          .contains(
              network.hostAddress()
                  + " dev eth0 lladdr "
                  + NetworkNamespaces.mac(0, network.slot()))
          .contains("PERMANENT");
      String host = output("ip", "neigh", "show", "dev", "kfeed0004-" + network.slot());
      assertThat(host)
          .contains(
              network.instanceAddress() + " lladdr " + NetworkNamespaces.mac(1, network.slot()))
          .contains("PERMANENT");
      n.remove(network);
    } finally {
      n.close();
    }
  }

  /**
   * Starts that find no spare at the same moment share the {@code ip} runs that make their
   * namespaces' host sides: each still gets a namespace, link and slot of its own, and each is
   * undone on its own.
   */
  @Test
  void startsThatFindNoSpareTogether_eachGetANamespaceOfTheirOwn() throws Exception {
    NetworkNamespaces n = fresh("feed0005", true);
    List<InstanceNetwork> taken = new java.util.ArrayList<>();
    try (var starts = Executors.newVirtualThreadPerTaskExecutor()) {
      var all =
          java.util.stream.IntStream.range(0, 12)
              .mapToObj(i -> starts.submit(() -> n.take(i % 2 == 0)))
              .toList();
      for (var f : all) {
        taken.add(f.get());
      }
      assertThat(taken.stream().map(InstanceNetwork::namespace).distinct()).hasSize(12);
      assertThat(taken.stream().map(InstanceNetwork::slot).distinct()).hasSize(12);
      for (InstanceNetwork network : taken) {
        assertThat(Path.of("/run/netns", network.namespace())).exists();
        assertThat(Path.of("/sys/class/net", "kfeed0005-" + network.slot())).exists();
        assertThat(network.configured()).isFalse();
      }
      assertThat(taken.stream().filter(InstanceNetwork::defaultRoute)).hasSize(6);
      InstanceNetwork routed =
          n.configureInside(taken.stream().filter(InstanceNetwork::defaultRoute).findFirst().get());
      assertThat(output("ip", "-n", routed.namespace(), "route", "show"))
          .contains("default via " + routed.hostAddress());
    } finally {
      taken.forEach(n::remove);
      n.close();
    }
    for (InstanceNetwork network : taken) {
      assertThat(Path.of("/run/netns", network.namespace())).doesNotExist();
    }
  }

  /** Network namespaces of a server {@code serverId} with nothing made yet (root, ip and nft). */
  private static NetworkNamespaces fresh(String serverId, boolean outbound) throws Exception {
    Assumptions.assumeTrue(
        LinuxSandboxDriver.isRoot()
            && ProcessTrees.executable("ip").isPresent()
            && ProcessTrees.executable("nft").isPresent(),
        "needs root, ip and nft");
    return NetworkNamespaces.create(
            Files.createTempDirectory("kiln-state-"),
            serverId,
            9,
            outbound,
            Executors.newCachedThreadPool(),
            HostSlots.at(HostSlots.NETWORK_SLOTS, NetworkNamespaces.SLOTS))
        .orElseThrow();
  }
}
