package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network isolation: every instance in a network namespace of its own, joined to the host by a veth
 * pair on a /30 of its own in 169.254.128.0/17, with the host's firewall in front.
 *
 * <p>Inside, an instance sees only its loopback and {@code eth0}; the host's {@code 127.0.0.1}
 * services are not there. Through {@code eth0} it reaches the Runtime API on the host's end of its
 * own pair and, when outbound access is on, the world through NAT (as a Lambda function outside a
 * VPC does). The nftables table Kiln installs drops everything else an instance sends to the host
 * (other ports, the host's other addresses, other instances' pairs) and anything one instance
 * forwards to another. Because the host's end of a pair can only be reached from that one
 * namespace, the address a Runtime API request arrives on identifies the instance for certain.
 *
 * <p>Making one costs about 10 ms (two {@code ip -batch} calls), so one is kept ready ({@link
 * Spare}); tearing one down costs 3 ms, off the invocation path. A start that finds none ready (a
 * burst's) gets only the host's side made, in one {@code ip} run shared with every start waiting at
 * that moment: the kernel makes namespaces and links one at a time under its own locks, and an
 * {@code ip} process started from the JVM costs 5–6 ms of CPU, so eight starts each making their
 * own queued behind each other for hundreds of milliseconds in a burst. The inside of such a
 * namespace is left to whoever starts the instance ({@link InstanceNetwork#configured}). Each
 * namespace's name is recorded under the driver's state directory until it is removed, so that what
 * a Kiln killed with -9 left behind is swept at the next start.
 *
 * <p>Several servers share the host. Each has its own table ({@code kiln-<server id>}), links
 * ({@code k<server id>-<slot>}) and namespaces ({@code kiln-<server id>-<random>}), so its rules
 * match only its own links and its sweep removes only its own leftovers. The address range is
 * shared: a /30 is taken through {@link HostSlots}, which no two processes hold at once; the
 * namespace and link made with a slot are noted in its lock file, and whoever takes a slot whose
 * holder died removes them first (they would hold the same addresses). Needs root, {@code ip}
 * (iproute2) and {@code nft} (nftables).
 */
final class NetworkNamespaces {

  private static final Logger LOG = LoggerFactory.getLogger(NetworkNamespaces.class);

  /** 169.254.128.0/17 as /30 blocks. */
  private static final int BASE = (169 << 24) | (254 << 16) | (128 << 8);

  static final int SLOTS = 8192;

  /**
   * The /30 blocks are shared by every Kiln on the host: a block is claimed through a lock file
   * under {@code /run/kiln}, which no other server (in this JVM or another) can claim while this
   * one holds it, and which the kernel frees when a Kiln killed with -9 dies.
   */
  private final HostSlots slots;

  /** The slot each namespace of this server holds, by namespace name. */
  private final Map<String, HostSlots.Claim> claims = new ConcurrentHashMap<>();

  private final String ip;
  private final String nft;
  private final String serverId;
  private final String table;
  private final String linkPrefix;
  private final boolean outbound;
  private final Path records;
  private final Spare<InstanceNetwork> spare;

  /**
   * Guards {@code waiting} and {@code batching}: the starts waiting for a namespace made on demand,
   * and whether one of them is making a batch now. Held only to hand the list over, never while
   * {@code ip} runs. A lock, not a monitor, so that a virtual thread waiting on it is not pinned.
   */
  private final java.util.concurrent.locks.ReentrantLock batchLock =
      new java.util.concurrent.locks.ReentrantLock();

  private final java.util.concurrent.locks.Condition batchDone = batchLock.newCondition();
  private List<Pending> waiting = new ArrayList<>();
  private boolean batching;

  private NetworkNamespaces(
      String ip,
      String nft,
      String serverId,
      boolean outbound,
      Path records,
      HostSlots slots,
      Executor executor) {
    this.records = records;
    this.slots = slots;
    this.spare = new Spare<>("network namespace", this::make, this::remove, executor);
    this.ip = ip;
    this.nft = nft;
    // one table, one interface prefix and one namespace prefix per server, named from its data
    // directory, so that two Kiln servers on one host keep out of each other's rules and leftovers
    // (links: k<8 hex digits>-<slot>, at most 14 of the 15 characters Linux allows)
    this.serverId = serverId;
    this.table = "kiln-" + serverId;
    this.linkPrefix = "k" + serverId + "-";
    this.outbound = outbound;
  }

  /**
   * Network isolation for instances reaching the Runtime API on {@code runtimeApiPort}, or empty
   * with the reason logged when this host cannot give it.
   */
  static Optional<NetworkNamespaces> create(
      Path stateDir, String serverId, int runtimeApiPort, boolean outbound, Executor executor) {
    return create(
        stateDir,
        serverId,
        runtimeApiPort,
        outbound,
        executor,
        HostSlots.at(HostSlots.NETWORK_SLOTS, SLOTS));
  }

  /** As above, with slots claimed from {@code slots} (a test's own lock directory). */
  static Optional<NetworkNamespaces> create(
      Path stateDir,
      String serverId,
      int runtimeApiPort,
      boolean outbound,
      Executor executor,
      HostSlots slots) {
    Optional<String> ip = ProcessTrees.executable("ip");
    Optional<String> nft = ProcessTrees.executable("nft");
    if (!LinuxSandboxDriver.isRoot() || ip.isEmpty() || nft.isEmpty()) {
      return Optional.empty();
    }
    NetworkNamespaces n =
        new NetworkNamespaces(
            ip.get(), nft.get(), serverId, outbound, stateDir.resolve("netns"), slots, executor);
    try {
      Files.createDirectories(n.records);
      // the table is named from the data directory: installing it replaces the one a Kiln killed
      // with -9 left behind, and never another server's (which the old record, named from a port
      // another server may hold now, could not promise: it is dropped unread)
      Files.deleteIfExists(stateDir.resolve("firewall-table"));
      n.installFirewall(runtimeApiPort);
      if (outbound) {
        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
      }
      return Optional.of(n);
    } catch (IOException e) {
      LOG.warn("instances will share the host's network: {}", e.getMessage());
      return Optional.empty();
    }
  }

  boolean outbound() {
    return outbound;
  }

  private void installFirewall(int port) throws IOException {
    String links = linkPrefix + "*";
    StringBuilder rules = new StringBuilder();
    // declaring a table before deleting it makes the delete safe when there is none yet
    rules.append("table inet ").append(table).append("\n");
    rules.append("delete table inet ").append(table).append("\n");
    rules.append("table inet ").append(table).append(" {\n");
    rules.append("  chain input {\n");
    rules.append("    type filter hook input priority 0; policy accept;\n");
    rules.append("    iifname \"").append(links).append("\" tcp dport ").append(port);
    rules.append(" fib daddr . iif type local accept\n");
    rules.append("    iifname \"").append(links).append("\" drop\n");
    rules.append("  }\n");
    rules.append("  chain forward {\n");
    rules.append("    type filter hook forward priority 0; policy accept;\n");
    rules.append("    iifname \"").append(links).append("\" oifname \"").append(links);
    rules.append("\" drop\n");
    rules.append("  }\n");
    if (outbound) {
      rules.append("  chain postrouting {\n");
      rules.append("    type nat hook postrouting priority 100; policy accept;\n");
      rules.append("    iifname \"").append(links).append("\" oifname != \"").append(links);
      rules.append("\" masquerade\n");
      rules.append("  }\n");
    }
    rules.append("}\n");
    ProcessTrees.run(List.of(nft, "-f", "-"), rules.toString());
  }

  /** Removes the spare and the firewall table; instances' namespaces go one by one as they end. */
  void close() {
    spare.close();
    deleteTable(table);
  }

  /** Makes the first spare; call once leftovers are swept. */
  void prepare() {
    spare.refill();
  }

  /** Namespaces made ahead of need and ready to be taken. */
  int spares() {
    return spare.ready();
  }

  /**
   * A namespace and veth pair for a new instance; with no route beyond the host unless {@code
   * outbound} (and outbound access is on for the server).
   */
  InstanceNetwork take(boolean outbound) throws IOException {
    InstanceNetwork network = spare.takeReady();
    if (network == null) {
      return makeOnDemand(this.outbound && outbound);
    }
    if (this.outbound && !outbound) {
      try {
        ProcessTrees.run(List.of(ip, "-n", network.namespace(), "route", "del", "default"), "");
      } catch (IOException e) {
        remove(network);
        throw e;
      }
      return network.withoutDefaultRoute();
    }
    return network;
  }

  /** Removes the namespaces a Kiln killed with -9 left behind; their instances are gone already. */
  void sweep() {
    // by name too, should a record be missing: no other server's names start like this server's
    for (String netns : namesStarting(Path.of("/run/netns"), "kiln-" + serverId + "-")) {
      remove(netns);
    }
    for (String link : namesStarting(Path.of("/sys/class/net"), linkPrefix)) {
      try {
        ProcessTrees.run(List.of(ip, "link", "delete", link), "");
      } catch (IOException e) {
        LOG.debug("could not delete leftover link {}: {}", link, e.toString());
      }
    }
    for (Path record : ProcessTrees.files(records)) {
      remove(record.getFileName().toString());
      try {
        Files.deleteIfExists(record);
      } catch (IOException e) {
        LOG.debug("could not remove {}: {}", record, e.toString());
      }
    }
  }

  private static List<String> namesStarting(Path dir, String prefix) {
    try (var names = Files.list(dir)) {
      return names.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private void deleteTable(String name) {
    try {
      ProcessTrees.run(List.of(nft, "delete", "table", "inet", name), "");
    } catch (IOException e) {
      LOG.debug("could not remove nftables table {}: {}", name, e.toString());
    }
  }

  /** A namespace about to be made: its name, addresses and slot, and its link's name. */
  private record Plan(InstanceNetwork network, String link) {}

  /**
   * Claims a slot and names the namespace and link to be made with it, noted in the slot's lock
   * file and under the state directory, so that a Kiln killed while making them sweeps them.
   */
  private Plan plan(boolean defaultRoute) throws IOException {
    HostSlots.Claim claim = slots.claim();
    int slot = claim.slot();
    int block = BASE + slot * 4;
    String name =
        "kiln-" + serverId + "-" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String link = linkPrefix + slot;
    try {
      removeLeftover(claim.previousNote());
      claim.note(name + " " + link);
      Files.writeString(records.resolve(name), link);
    } catch (IOException e) {
      claim.release();
      throw e;
    }
    claims.put(name, claim);
    InstanceNetwork network =
        new InstanceNetwork(
            name, address(block + 1), address(block + 2), slot, false, defaultRoute);
    return new Plan(network, link);
  }

  /** The host's side, as {@code ip -batch} lines run in the host's namespace. */
  private String hostSide(Plan p) {
    InstanceNetwork n = p.network();
    return "netns add "
        + n.namespace()
        + "\nlink add "
        + p.link()
        + " address "
        + mac(0, n.slot())
        + " type veth peer name eth0 address "
        + mac(1, n.slot())
        + " netns "
        + n.namespace()
        + "\naddr add "
        + n.hostAddress()
        + "/30 dev "
        + p.link()
        + "\nlink set "
        + p.link()
        + " up\nneigh replace "
        + n.instanceAddress()
        + " lladdr "
        + mac(1, n.slot())
        + " dev "
        + p.link()
        + " nud permanent\n";
  }

  /** A spare: both sides made, two {@code ip} runs. */
  private InstanceNetwork make() throws IOException {
    Plan p = plan(outbound);
    try {
      ProcessTrees.run(List.of(ip, "-batch", "-"), hostSide(p));
      return configureInside(p.network());
    } catch (IOException e) {
      remove(p.network());
      throw e;
    }
  }

  /**
   * Sets up the inside of a namespace made on demand ({@link #take}), with one {@code ip} run in
   * it; an instance forked from a zygote does this itself instead (zygote.py).
   */
  InstanceNetwork configureInside(InstanceNetwork n) throws IOException {
    ProcessTrees.run(
        List.of(ip, "-n", n.namespace(), "-batch", "-"),
        "addr add "
            + n.instanceAddress()
            + "/30 dev eth0\nlink set eth0 up\nlink set lo up\nneigh replace "
            + n.hostAddress()
            + " lladdr "
            + n.hostMac()
            + " dev eth0 nud permanent\n"
            + (n.defaultRoute() ? "route add default via " + n.hostAddress() + "\n" : ""));
    return n.asConfigured();
  }

  /**
   * The host's side of a namespace for a start that found no spare, made in one {@code ip} run with
   * those of every other start waiting at the same moment (see the class comment).
   */
  private InstanceNetwork makeOnDemand(boolean defaultRoute) throws IOException {
    Pending mine = new Pending(defaultRoute);
    batchLock.lock();
    try {
      waiting.add(mine);
      while (!mine.done.isDone()) {
        if (batching) {
          batchDone.awaitUninterruptibly();
          continue;
        }
        // nobody is making a batch: this start makes the waiting ones, its own among them
        List<Pending> batch = waiting;
        waiting = new ArrayList<>();
        batching = true;
        batchLock.unlock();
        try {
          makeBatch(batch);
        } finally {
          // whatever escaped makeBatch: no start of the batch may wait for it for ever
          IOException unmade = new IOException("the network namespace could not be made");
          batch.forEach(p -> p.done.completeExceptionally(unmade));
          batchLock.lock();
          batching = false;
          batchDone.signalAll();
        }
      }
    } finally {
      batchLock.unlock();
    }
    try {
      return mine.done.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  /** Makes the host's side of every namespace in {@code batch} in one {@code ip} run. */
  private void makeBatch(List<Pending> batch) {
    List<Plan> plans = new ArrayList<>();
    StringBuilder lines = new StringBuilder();
    for (Pending pending : batch) {
      try {
        Plan p = plan(pending.defaultRoute);
        plans.add(p);
        lines.append(hostSide(p));
      } catch (IOException | RuntimeException e) {
        pending.done.completeExceptionally(e);
        plans.add(null);
      }
    }
    try {
      if (lines.length() > 0) {
        ProcessTrees.run(List.of(ip, "-batch", "-"), lines.toString());
        LOG.debug("made the host's side of {} namespace(s) in one ip run", batch.size());
      }
      for (int i = 0; i < batch.size(); i++) {
        if (plans.get(i) != null) {
          batch.get(i).done.complete(plans.get(i).network());
        }
      }
    } catch (IOException | RuntimeException e) {
      // ip stops at the first line that fails: none of the batch is trusted, each is undone
      for (int i = 0; i < batch.size(); i++) {
        if (plans.get(i) != null) {
          remove(plans.get(i).network());
          batch.get(i).done.completeExceptionally(e);
        }
      }
    }
  }

  /** A start waiting for the host's side of its namespace. */
  private static final class Pending {
    final boolean defaultRoute;
    final java.util.concurrent.CompletableFuture<InstanceNetwork> done =
        new java.util.concurrent.CompletableFuture<>();

    Pending(boolean defaultRoute) {
      this.defaultRoute = defaultRoute;
    }
  }

  /**
   * The hardware address of a slot's veth end ({@code end} 0 on the host, 1 inside), locally
   * administered and fixed, so that each end's neighbour entry for the other is written as the pair
   * is made: an instance's first packet to its Runtime API then waits for no ARP exchange (about 2
   * ms of its cold start here).
   */
  static String mac(int end, int slot) {
    return String.format(
        "02:6b:%02x:%02x:%02x:%02x", end, (slot >> 16) & 0xff, (slot >> 8) & 0xff, slot & 0xff);
  }

  /**
   * Removes a namespace this server made (if it got that far), its record and its slot; its veth
   * pair goes with it.
   */
  void remove(InstanceNetwork network) {
    remove(network.namespace());
    try {
      Files.deleteIfExists(records.resolve(network.namespace()));
    } catch (IOException e) {
      LOG.debug("could not remove the record of {}: {}", network.namespace(), e.toString());
    }
    releaseSlot(network.namespace());
  }

  /**
   * Removes what the last holder of a slot, a Kiln that died holding it, left there: its namespace
   * and the host's end of its veth pair (the note is {@code "<namespace> <link>"}).
   */
  private void removeLeftover(String note) {
    String[] parts = note.split(" ");
    if (parts.length != 2
        || !parts[0].matches("kiln-[0-9a-f-]+")
        || !parts[1].matches("k[0-9a-z-]+")) {
      return;
    }
    remove(parts[0]);
    if (Files.exists(Path.of("/sys/class/net", parts[1]))) {
      try {
        ProcessTrees.run(List.of(ip, "link", "delete", parts[1]), "");
      } catch (IOException e) {
        LOG.debug("could not delete leftover link {}: {}", parts[1], e.toString());
      }
    }
  }

  /** Deletes a namespace if it exists (one made in a batch that failed may not). */
  private void remove(String namespace) {
    if (!Files.exists(Path.of("/run/netns", namespace))) {
      return;
    }
    try {
      ProcessTrees.run(List.of(ip, "netns", "delete", namespace), "");
    } catch (IOException e) {
      LOG.debug("could not delete network namespace {}: {}", namespace, e.toString());
    }
  }

  private void releaseSlot(String namespace) {
    HostSlots.Claim claim = claims.remove(namespace);
    if (claim != null) {
      claim.release();
    }
  }

  private static String address(int a) {
    return ((a >>> 24) & 255)
        + "."
        + ((a >>> 16) & 255)
        + "."
        + ((a >>> 8) & 255)
        + "."
        + (a & 255);
  }
}
