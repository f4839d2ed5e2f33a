package dev.kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Enumeration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The control plane: what it costs to deploy a function and to read the catalogue back.
 *
 * <p><b>CreateFunction with 1, 10 and 50 MB zips</b> against unzipping the same file on the same
 * machine. Whatever else it does, CreateFunction must receive the package, hash it, store it and
 * unpack it (Kiln unpacks at create, so that the first invoke does not pay for it, and answers 201
 * only once the function is Active); of those, unpacking is the part that grows with the package.
 * Each zip is a small Python handler and one file of random bytes stored as is, so the zip really
 * is that size (random bytes do not compress) and its content is new every time (Kiln stores
 * packages by digest, and an identical package would skip the unpacking). Two baselines, both in
 * the bench's own JVM with {@code java.util.zip} (not the {@code unzip} tool, whose start would be
 * measured with it), after an untimed warm-up: (1) unzip, the same zip file extracted with {@code
 * ZipFile} to a scratch directory in the file system Kiln's data directory is on; (2) the whole
 * floor, SHA-256 of the zip, the zip written with fsync, then extracted. Kiln's time is the
 * client's: from sending the raw HTTP CreateFunction (the zip base64 in its JSON, as the API has
 * it) to its answer, so it includes the upload over loopback and the base64 and JSON decoding that
 * the API imposes and the baselines do not. Medians of the repetitions.
 *
 * <p><b>ListFunctions (every page) and GetFunction with N functions stored</b> (N = 10,000 by
 * default), against the floor of a catalogue held in SQLite and served over HTTP, measured in the
 * same run: for each page, one loopback HTTP round trip to a server that answers at once (the warm
 * suite's baseline (a)) plus a raw SQLite {@code SELECT} of the same rows (keyset pagination, 50
 * per page as Kiln and Lambda page) from a copy of Kiln's own metadata database taken with {@code
 * VACUUM INTO} after the functions were stored; for GetFunction, one round trip plus the {@code
 * SELECT} of one function's row. A bare {@code SELECT} alone was considered and not chosen as the
 * baseline: it takes microseconds, so the ratio would say mostly "an HTTP API costs a hop", which
 * the warm suite already says; the hop plus the rows is the least any HTTP control plane over the
 * same store can cost, and the ratio is what Kiln adds on top: routing, JSON of every
 * configuration, and its own queries. Calls are raw HTTP, not the AWS SDK. A full listing is timed
 * as one call in a closed loop (one client) for the measurement duration; GetFunction of a random
 * stored function is timed on a fixed schedule like the warm suite's (one client, twice the slower
 * target's mean service time, latency counted from when each call was due).
 */
final class ControlSuite implements Suite {

  /** ListFunctions' page: Kiln, like Lambda, gives at most 50 functions per page. */
  private static final int PAGE = 50;

  /** Room left in a zip for its headers and the handler, so that "50 MB" stays under the limit. */
  private static final int ZIP_HEADROOM_BYTES = 4096;

  private static final int STORING_CLIENTS = 8;
  private static final long MINIMUM_INTERVAL_NANOS = 100_000;
  private static final String ROLE = "arn:aws:iam::000000000000:role/kiln-bench";
  private static final String STORED_PREFIX = "bench-control-";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** CreateFunction of one zip size against its baselines; medians in milliseconds. */
  record Create(
      int zipMb,
      long zipBytes,
      long unzippedBytes,
      int runs,
      double kilnCreateMillis,
      double unzipMillis,
      double hashStoreUnzipMillis,
      double kilnOverUnzip,
      double kilnOverHashStoreUnzip,
      double[] kilnCreateRunsMillis,
      double[] unzipRunsMillis) {}

  /** One target's full listing: how long a pass over every page takes. */
  record Listing(
      String target, int functionsListed, int pages, long passes, Latency passTime, long errors) {}

  /** One target's GetFunction latency on the fixed schedule. */
  record Lookup(
      String target,
      long intervalMicros,
      double callsPerSecond,
      Latency responseTime,
      Latency serviceTime,
      String firstError) {}

  /** Kiln over the baseline for the listing and the lookups. */
  record Ratios(
      int storedFunctions,
      double storeSeconds,
      double listingP50OverBaseline,
      double listingP99OverBaseline,
      double[] getFunctionOverBaseline) {}

  @Override
  public String name() {
    return "control";
  }

  @Override
  public void run(BenchContext context, SuiteReport report) throws Exception {
    BenchSettings settings = context.settings();
    report.note(
        "CreateFunction: raw HTTP, a zip of a Python handler and random bytes (stored), new"
            + " content each time, "
            + settings.createsPerSize()
            + " per size, medians; baselines in the bench's JVM with java.util.zip, in the file"
            + " system of Kiln's data directory. ListFunctions and GetFunction: "
            + settings.storedFunctions()
            + " functions stored; baseline per page or call: a loopback HTTP round trip plus a raw"
            + " SQLite SELECT of the same rows from a copy of Kiln's metadata database. Warm-up "
            + settings.warmup().toMillis()
            + " ms, measurement "
            + settings.duration().toMillis()
            + " ms per target.");
    Path scratch = Files.createTempDirectory(context.kiln().dataDir().getParent(), "kiln-bench-");
    try {
      createFromZips(context, report, scratch);
      readCatalogue(context, report, scratch);
    } finally {
      ScratchFiles.deleteTree(scratch);
    }
  }

  // ---- CreateFunction against unzip ----

  private void createFromZips(BenchContext context, SuiteReport report, Path scratch)
      throws Exception {
    BenchSettings settings = context.settings();
    int runs = settings.createsPerSize();
    // untimed: both JVMs' paths compiled, the code store's directories made
    byte[] warmZip = randomZip(1 << 20);
    createAndDelete(context, "bench-control-zip-warmup", warmZip);
    unzip(writeZip(scratch, warmZip, false), scratch.resolve("unzipped"));
    ScratchFiles.deleteTree(scratch.resolve("unzipped"));

    Table t =
        report.table(
            Table.of(
                "CreateFunction against unzip of the same zip, median of " + runs + ", ms",
                "zip MB",
                "unpacked MB",
                "baseline 1: unzip (java.util.zip)",
                "baseline 2: SHA-256 + fsync'd write + unzip",
                "Kiln CreateFunction (until 201, Active)",
                "ratio Kiln / unzip",
                "ratio Kiln / baseline 2"));
    for (int mb : settings.zipSizesMb()) {
      double[] kiln = new double[runs];
      double[] unzip = new double[runs];
      double[] floor = new double[runs];
      long zipBytes = 0;
      long unzippedBytes = 0;
      for (int run = 0; run < runs; run++) {
        byte[] zip = randomZip((long) mb * 1024 * 1024);
        zipBytes = zip.length;
        kiln[run] = createAndDelete(context, "bench-control-zip-" + mb + "mb-" + run, zip);

        Path file = writeZip(scratch, zip, false);
        Path out = scratch.resolve("unzipped");
        long t0 = System.nanoTime();
        unzippedBytes = unzip(file, out);
        unzip[run] = (System.nanoTime() - t0) / 1e6;
        ScratchFiles.deleteTree(out);

        t0 = System.nanoTime();
        MessageDigest.getInstance("SHA-256").digest(zip);
        unzip(writeZip(scratch, zip, true), out);
        floor[run] = (System.nanoTime() - t0) / 1e6;
        ScratchFiles.deleteTree(out);
      }
      double k = ColdSuite.median(kiln);
      double u = ColdSuite.median(unzip);
      double f = ColdSuite.median(floor);
      report.result(
          new Create(mb, zipBytes, unzippedBytes, runs, k, u, f, k / u, k / f, kiln, unzip));
      t.row(mb(zipBytes), mb(unzippedBytes), u, f, k, k / u, k / f);
    }
  }

  /** A zip of exactly about {@code bytes}: the no-op Python handler and one random, stored file. */
  static byte[] randomZip(long bytes) throws IOException {
    byte[] payload = new byte[(int) Math.max(0, bytes - ZIP_HEADROOM_BYTES)];
    new SplittableRandom(System.nanoTime()).nextBytes(payload);
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + ZIP_HEADROOM_BYTES);
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (var file : Language.PYTHON.files().entrySet()) {
        zip.putNextEntry(new ZipEntry(file.getKey()));
        zip.write(file.getValue());
        zip.closeEntry();
      }
      ZipEntry random = new ZipEntry("random.bin");
      random.setMethod(ZipEntry.STORED);
      CRC32 crc = new CRC32();
      crc.update(payload);
      random.setSize(payload.length);
      random.setCompressedSize(payload.length);
      random.setCrc(crc.getValue());
      zip.putNextEntry(random);
      zip.write(payload);
      zip.closeEntry();
    }
    return out.toByteArray();
  }

  /** A raw HTTP CreateFunction of the zip, timed to its answer; then the function is deleted. */
  private static double createAndDelete(BenchContext context, String name, byte[] zip)
      throws Exception {
    byte[] body = createBody(name, zip);
    HttpRequest request =
        HttpCalls.signed(
            "POST", functionsUri(context), body, java.util.Map.of(), context.kiln().credentials());
    long t0 = System.nanoTime();
    HttpResponse<String> response =
        context.http().send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 201) {
      throw new IllegalStateException(
          "CreateFunction " + name + ": HTTP " + response.statusCode() + " " + response.body());
    }
    if (!"Active".equals(JSON.readTree(response.body()).path("State").asText())) {
      context.lambda().waiter().waitUntilFunctionActiveV2(b -> b.functionName(name));
    }
    double millis = (System.nanoTime() - t0) / 1e6;
    context.lambda().deleteFunction(b -> b.functionName(name));
    return millis;
  }

  private static byte[] createBody(String name, byte[] zip) {
    String head =
        "{\"FunctionName\":\""
            + name
            + "\",\"Runtime\":\""
            + Language.PYTHON.runtime
            + "\",\"Handler\":\""
            + Language.PYTHON.handler
            + "\",\"Role\":\""
            + ROLE
            + "\",\"Code\":{\"ZipFile\":\"";
    byte[] start = head.getBytes(StandardCharsets.UTF_8);
    byte[] base64 = Base64.getEncoder().encode(zip);
    byte[] end = "\"}}".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[start.length + base64.length + end.length];
    System.arraycopy(start, 0, body, 0, start.length);
    System.arraycopy(base64, 0, body, start.length, base64.length);
    System.arraycopy(end, 0, body, start.length + base64.length, end.length);
    return body;
  }

  private static Path writeZip(Path dir, byte[] zip, boolean fsync) throws IOException {
    Path file = dir.resolve(fsync ? "stored.zip" : "package.zip");
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(zip);
      while (buffer.hasRemaining()) {
        ch.write(buffer);
      }
      if (fsync) {
        ch.force(true);
      }
    }
    return file;
  }

  /** Extracts every entry of a zip file under {@code out}; returns the bytes written. */
  static long unzip(Path zipFile, Path out) throws IOException {
    long written = 0;
    try (ZipFile zip = new ZipFile(zipFile.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        Path target = out.resolve(e.getName()).normalize();
        if (!target.startsWith(out)) {
          throw new IOException("entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = zip.getInputStream(e)) {
          written += Files.copy(in, target);
        }
      }
    }
    return written;
  }

  // ---- ListFunctions and GetFunction with many functions stored ----

  private void readCatalogue(BenchContext context, SuiteReport report, Path scratch)
      throws Exception {
    BenchSettings settings = context.settings();
    int n = settings.storedFunctions();
    List<String> names = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      names.add(String.format("%s%06d", STORED_PREFIX, i));
    }
    double storeSeconds = storeFunctions(context, names);
    report.note(
        "Stored "
            + n
            + " functions in "
            + Table.cell(storeSeconds)
            + " s ("
            + STORING_CLIENTS
            + " clients of raw HTTP CreateFunction, one small zip shared by all, so stored once).");

    Path copy = scratch.resolve("metadata-copy.db");
    try (Connection live =
            DriverManager.getConnection(
                "jdbc:sqlite:" + context.kiln().dataDir().resolve("metadata.db"));
        Statement st = live.createStatement()) {
      st.execute("VACUUM INTO '" + copy.toString().replace("'", "''") + "'");
    }

    try (BaselineProcess floor = BaselineProcess.floor();
        CatalogueCopy sqlite = new CatalogueCopy(copy)) {
      URI floorUri = floor.uri();
      // one untimed pass each, which also checks that both see every function
      int kilnListed = listKiln(context, true);
      int baselineListed = listBaseline(context, floorUri, sqlite);
      if (kilnListed < n || kilnListed != baselineListed) {
        throw new IllegalStateException(
            "Kiln listed " + kilnListed + " functions, the copy " + baselineListed + ", of " + n);
      }
      int pages = (kilnListed + PAGE - 1) / PAGE;

      LoadGenerator.Call kilnPass = () -> listKiln(context, false);
      LoadGenerator.Call baselinePass = () -> listBaseline(context, floorUri, sqlite);
      List<Listing> listings = new ArrayList<>();
      for (var target :
          List.of(
              new Object[] {"baseline: per page, HTTP round trip + SQLite SELECT", baselinePass},
              new Object[] {"Kiln ListFunctions, every page", kilnPass})) {
        LoadGenerator.Call call = (LoadGenerator.Call) target[1];
        LoadGenerator.closedLoop(call, 1, settings.warmup());
        LoadGenerator.Recording r = LoadGenerator.closedLoop(call, 1, settings.duration());
        if (r.calls() == 0) {
          // a pass longer than the duration: time one on its own
          long t0 = System.nanoTime();
          call.call();
          r.serviceTime().recordValue(System.nanoTime() - t0);
        }
        Listing l =
            new Listing(
                (String) target[0],
                kilnListed,
                pages,
                r.serviceTime().getTotalCount(),
                Latency.of(r.serviceTime(), r.errors()),
                r.errors());
        listings.add(l);
        report.result(l);
      }
      Table lt =
          report.table(
              Table.of(
                  "ListFunctions, every page: "
                      + kilnListed
                      + " functions, "
                      + pages
                      + " pages of "
                      + PAGE
                      + ", one client, ms per full listing",
                  "",
                  "p50 ms",
                  "p99 ms",
                  "max ms",
                  "listings",
                  "errors"));
      for (Listing l : listings) {
        lt.row(
            l.target(),
            l.passTime().p50Micros() / 1000,
            l.passTime().p99Micros() / 1000,
            l.passTime().maxMicros() / 1000,
            l.passes(),
            l.errors());
      }
      Latency base = listings.get(0).passTime();
      Latency kiln = listings.get(1).passTime();
      double listP50 = kiln.p50Micros() / base.p50Micros();
      double listP99 = kiln.p99Micros() / base.p99Micros();
      lt.row("ratio Kiln / baseline", listP50, listP99, "", "", "");

      double[] getRatios = lookups(context, report, names, floorUri, sqlite);
      report.result(new Ratios(n, storeSeconds, listP50, listP99, getRatios));
    }
  }

  /** Creates the functions over raw HTTP from a few clients; returns the seconds it took. */
  private static double storeFunctions(BenchContext context, List<String> names) throws Exception {
    byte[] zip = Language.PYTHON.zip();
    URI uri = functionsUri(context);
    AtomicInteger next = new AtomicInteger();
    List<java.util.concurrent.Future<?>> clients = new ArrayList<>();
    long t0 = System.nanoTime();
    try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < STORING_CLIENTS; c++) {
        clients.add(
            executor.submit(
                () -> {
                  for (int i = next.getAndIncrement();
                      i < names.size();
                      i = next.getAndIncrement()) {
                    HttpResponse<String> response =
                        context
                            .http()
                            .send(
                                HttpCalls.signed(
                                    "POST",
                                    uri,
                                    createBody(names.get(i), zip),
                                    java.util.Map.of(),
                                    context.kiln().credentials()),
                                HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 201) {
                      throw new IllegalStateException(
                          "CreateFunction "
                              + names.get(i)
                              + ": HTTP "
                              + response.statusCode()
                              + " "
                              + response.body());
                    }
                  }
                  return null;
                }));
      }
    }
    for (var c : clients) {
      c.get();
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /**
   * Every page of ListFunctions; returns the functions listed. Timed passes find the next marker by
   * a plain search (Kiln writes {@code NextMarker} before the list), so that the client's own JSON
   * parsing is not charged to Kiln; the untimed checking pass parses every page.
   */
  private static int listKiln(BenchContext context, boolean parse) throws Exception {
    String marker = null;
    int listed = 0;
    do {
      URI uri =
          context
              .kiln()
              .endpoint()
              .resolve(
                  "/2015-03-31/functions/?MaxItems="
                      + PAGE
                      + (marker == null
                          ? ""
                          : "&Marker=" + URLEncoder.encode(marker, StandardCharsets.UTF_8)));
      byte[] body =
          HttpCalls.getBody(context.http(), HttpCalls.signedGet(uri, context.kiln().credentials()));
      if (parse) {
        JsonNode page = JSON.readTree(body);
        listed += page.path("Functions").size();
        marker = page.hasNonNull("NextMarker") ? page.get("NextMarker").asText() : null;
      } else {
        marker = nextMarker(body);
        listed += PAGE;
      }
    } while (marker != null);
    return listed;
  }

  private static String nextMarker(byte[] body) {
    String text = new String(body, StandardCharsets.ISO_8859_1);
    String key = "\"NextMarker\":\"";
    int at = text.indexOf(key);
    if (at < 0) {
      return null;
    }
    int from = at + key.length();
    return text.substring(from, text.indexOf('"', from));
  }

  /** The baseline's full listing: per page, one round trip to the floor and one SELECT. */
  private static int listBaseline(BenchContext context, URI floor, CatalogueCopy sqlite)
      throws Exception {
    String after = "";
    int listed = 0;
    while (true) {
      HttpCalls.getBody(context.http(), floor);
      CatalogueCopy.Page page = sqlite.page(after);
      listed += page.rows();
      if (page.lastName() == null || !page.more()) {
        return listed;
      }
      after = page.lastName();
    }
  }

  /** GetFunction of a random stored function against the floor hop plus its row's SELECT. */
  private static double[] lookups(
      BenchContext context,
      SuiteReport report,
      List<String> names,
      URI floor,
      CatalogueCopy sqlite) {
    BenchSettings settings = context.settings();
    URI functions = functionsUri(context);
    LoadGenerator.Call baseline =
        () -> {
          HttpCalls.getBody(context.http(), floor);
          sqlite.config(names.get(ThreadLocalRandom.current().nextInt(names.size())));
        };
    // signed ahead, one request per function (valid 15 minutes): the client does not pay an HMAC
    // chain per call that the baseline does not
    List<HttpRequest> signed = new java.util.ArrayList<>(names.size());
    for (String n : names) {
      signed.add(
          HttpCalls.signedGet(functions.resolve("functions/" + n), context.kiln().credentials()));
    }
    LoadGenerator.Call kiln =
        HttpCalls.send(
            context.http(), () -> signed.get(ThreadLocalRandom.current().nextInt(signed.size())));
    List<String> targets =
        List.of(
            "baseline: HTTP round trip + SQLite SELECT of the row",
            "Kiln GetFunction, a random one of " + names.size());
    List<LoadGenerator.Call> calls = List.of(baseline, kiln);

    double slowestMean = 0;
    for (LoadGenerator.Call call : calls) {
      LoadGenerator.closedLoop(call, 1, settings.warmup());
      LoadGenerator.Recording calibrated =
          LoadGenerator.closedLoop(call, 1, settings.warmup().dividedBy(4));
      if (calibrated.calls() == 0 || calibrated.errors() > 0) {
        throw new IllegalStateException("GetFunction warm-up failed: " + calibrated.firstError());
      }
      slowestMean = Math.max(slowestMean, calibrated.meanServiceNanos());
    }
    long interval = Math.max(MINIMUM_INTERVAL_NANOS, (long) (2 * slowestMean));
    List<Lookup> measured = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      LoadGenerator.Recording r =
          LoadGenerator.fixedRate(calls.get(i), 1, interval, settings.duration());
      Lookup l =
          new Lookup(
              targets.get(i),
              interval / 1000,
              r.callsPerSecond(),
              Latency.of(r.responseTime(), r.errors()),
              Latency.of(r.serviceTime(), r.errors()),
              r.firstError());
      measured.add(l);
      report.result(l);
      report.plot("GetFunction, 1 client", i == 0 ? "baseline" : "Kiln", r.responseTime());
    }
    Table t =
        report.table(
            Table.of(
                "GetFunction, "
                    + names.size()
                    + " functions stored, one client, one call per "
                    + interval / 1000
                    + " µs",
                "",
                "p50 µs",
                "p90 µs",
                "p99 µs",
                "p99.9 µs",
                "calls",
                "errors"));
    for (Lookup l : measured) {
      Latency r = l.responseTime();
      t.row(
          l.target(),
          r.p50Micros(),
          r.p90Micros(),
          r.p99Micros(),
          r.p999Micros(),
          r.calls(),
          r.errors());
    }
    double[] ratios = new double[4];
    for (int q = 0; q < 4; q++) {
      ratios[q] =
          measured.get(1).responseTime().percentiles()[q]
              / measured.get(0).responseTime().percentiles()[q];
    }
    t.row("ratio Kiln / baseline", ratios[0], ratios[1], ratios[2], ratios[3], "", "");
    return ratios;
  }

  private static URI functionsUri(BenchContext context) {
    return context.kiln().endpoint().resolve("/2015-03-31/functions");
  }

  private static double mb(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }

  /**
   * The baseline's store: a copy of Kiln's metadata database, read with the same keyset pagination
   * Kiln uses, one connection used by one client at a time.
   */
  private static final class CatalogueCopy implements AutoCloseable {

    record Page(int rows, String lastName, boolean more) {}

    private final Connection db;
    private final PreparedStatement page;
    private final PreparedStatement one;

    CatalogueCopy(Path file) throws Exception {
      db = DriverManager.getConnection("jdbc:sqlite:" + file);
      page =
          db.prepareStatement(
              "SELECT name, config FROM function_versions WHERE version = '$LATEST' AND name > ?"
                  + " ORDER BY name LIMIT ?");
      one =
          db.prepareStatement(
              "SELECT config FROM function_versions WHERE name = ? AND version = '$LATEST'");
    }

    /** Up to a page of rows after {@code after}, each configuration read as text. */
    synchronized Page page(String after) throws Exception {
      page.setString(1, after);
      page.setInt(2, PAGE + 1);
      int rows = 0;
      String last = null;
      boolean more = false;
      try (ResultSet rs = page.executeQuery()) {
        while (rs.next()) {
          if (rows == PAGE) {
            more = true;
            break;
          }
          last = rs.getString(1);
          rs.getString(2);
          rows++;
        }
      }
      return new Page(rows, last, more);
    }

    synchronized String config(String name) throws Exception {
      one.setString(1, name);
      try (ResultSet rs = one.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("no row for " + name);
        }
        return rs.getString(1);
      }
    }

    @Override
    public synchronized void close() throws Exception {
      page.close();
      one.close();
      db.close();
    }
  }
}
