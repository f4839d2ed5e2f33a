package dev.kiln.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AWS SDK for Python that Kiln's Python runtimes carry, as Lambda's do, and nothing else of the
 * host's Python packages.
 *
 * <p>Kiln's Python bootstrap runs with {@code python3 -S}: no {@code site}, so none of the host's
 * {@code site-packages} or {@code dist-packages} (everything installed with apt or pip) is on a
 * function's {@code sys.path}; a function that imports {@code yaml} fails on Kiln as it fails on
 * Lambda. What Lambda's runtime bundles, boto3 and what it needs ({@link #MODULES}), is copied from
 * the host's installation into the Python runtime directory's {@code sdk}, which instances see at
 * {@code /var/runtime/sdk} and the bootstrap puts on {@code sys.path} after the function's own code
 * and layers (a function that bundles its own boto3 gets its own, as on Lambda).
 *
 * <p>The copy is made once per data directory and host installation: the interpreter is asked where
 * the modules are and which versions they are (without importing them), and that answer is the
 * stamp written last into {@code sdk}; a later start with the same answer copies nothing. It
 * happens when a Python function is first resolved, so servers without Python functions never pay
 * for botocore's 80 MB. A host without boto3 gives functions no SDK, and {@link #describe} says so.
 *
 * <p>{@link #ensureCopied} is guarded by the instance's monitor; {@code copied} is read without it.
 */
final class PythonSdk {

  private static final Logger LOG = LoggerFactory.getLogger(PythonSdk.class);

  /**
   * The modules Lambda's Python runtimes bundle: boto3 and its dependencies, imported by {@link
   * #LOCATE}.
   */
  static final List<String> MODULES =
      List.of(
          "boto3",
          "boto3.session",
          "botocore.session",
          "s3transfer.manager",
          "jmespath",
          "dateutil.parser",
          "urllib3",
          "six");

  /**
   * The top-level modules that may be copied, of those the SDK loads: Lambda's (boto3, botocore,
   * s3transfer, jmespath, dateutil, urllib3, six), and what a distribution's botocore needs where
   * AWS's vendors it (Debian's imports the system's requests). What the SDK merely tries (requests
   * tries pyOpenSSL and cryptography) stays out, as it is not in Lambda's runtime.
   */
  private static final List<String> ALLOWED =
      List.of(
          "boto3",
          "botocore",
          "s3transfer",
          "jmespath",
          "dateutil",
          "urllib3",
          "six",
          "requests",
          "idna",
          "chardet",
          "charset_normalizer",
          "certifi");

  /** Their distributions, whose versions Kiln names. */
  private static final List<String> DISTRIBUTIONS =
      List.of("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six");

  /** Written last into {@code sdk}: where the modules were copied from, and their versions. */
  private static final String STAMP = ".kiln-sdk-source";

  /**
   * Asks the interpreter (with its {@code site}) what boto3 really loads from the host's site
   * directories: it imports the SDK and makes a client, then names the top-level package or module
   * of every module that came from a site directory and is {@link #ALLOWED}. That is boto3 and its
   * dependencies as this host has them, and nothing the SDK does not use.
   */
  private static final String LOCATE =
      String.join(
          "\n",
          "import importlib, importlib.metadata, os, site, sys",
          "sites = [os.path.realpath(d) for d in site.getsitepackages() + [site.getusersitepackages()]]",
          "for name in sys.argv[1].split(','):",
          "    try:",
          "        importlib.import_module(name)",
          "    except ImportError:",
          "        pass",
          "try:",
          "    import boto3",
          "    boto3.client('s3', region_name='us-east-1', aws_access_key_id='x',"
              + " aws_secret_access_key='x')",
          "except Exception:",
          "    pass",
          "found = set()",
          "for name, module in list(sys.modules.items()):",
          "    origin = getattr(module, '__file__', None)",
          "    if not origin:",
          "        continue",
          "    origin = os.path.realpath(origin)",
          "    for d in sites:",
          "        if origin.startswith(d + os.sep):",
          "            top = os.path.relpath(origin, d).split(os.sep)[0]",
          "            if top.partition('.')[0] in sys.argv[3].split(','):",
          "                found.add(os.path.join(d, top))",
          "for path in sorted(found):",
          "    print('path', path, sep='\\t')",
          "for name in sys.argv[2].split(','):",
          "    try:",
          "        print('version', name + ' ' + importlib.metadata.version(name), sep='\\t')",
          "    except importlib.metadata.PackageNotFoundError:",
          "        pass",
          "");

  private final Path sdk;
  private volatile boolean copied;
  private volatile String versions = "";

  PythonSdk(Path pythonRuntimeDir) {
    this.sdk = pythonRuntimeDir.resolve("sdk");
  }

  /** Copies the host's boto3 and its dependencies into {@code sdk} unless they are there. */
  void ensureCopied(String interpreter) {
    if (copied) {
      return;
    }
    synchronized (this) {
      if (copied) {
        return;
      }
      try {
        copy(interpreter);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy the AWS SDK for Python into " + sdk, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while copying the AWS SDK for Python", e);
      }
      copied = true;
    }
  }

  private void copy(String interpreter) throws IOException, InterruptedException {
    Process p =
        dev.kiln.sandbox.ProcessSpawner.start(
            new ProcessBuilder(
                    interpreter,
                    "-c",
                    LOCATE,
                    String.join(",", MODULES),
                    String.join(",", DISTRIBUTIONS),
                    String.join(",", ALLOWED))
                .redirectErrorStream(true));
    p.getOutputStream().close();
    String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      LOG.warn("cannot find the host's AWS SDK for Python with {}: {}", interpreter, answer);
      Files.createDirectories(sdk);
      return;
    }
    List<String> paths = new java.util.ArrayList<>();
    List<String> found = new java.util.ArrayList<>();
    for (String line : answer.split("\n")) {
      String[] kv = line.split("\t", 2);
      if (kv.length == 2 && kv[0].equals("path")) {
        paths.add(kv[1]);
      } else if (kv.length == 2 && kv[0].equals("version")) {
        found.add(kv[1]);
      }
    }
    versions = String.join(", ", found);
    Path stamp = sdk.resolve(STAMP);
    if (Files.isRegularFile(stamp) && Files.readString(stamp).equals(answer)) {
      return;
    }
    long started = System.nanoTime();
    Path fresh = sdk.resolveSibling("sdk.copying");
    NodeSdk.deleteTree(fresh);
    Files.createDirectories(fresh);
    long[] files = {0};
    for (String path : paths) {
      Path source = Path.of(path);
      if (!Files.exists(source)) {
        continue;
      }
      Path target = fresh.resolve(source.getFileName().toString());
      try (Stream<Path> walk = Files.walk(source)) {
        for (Path s : walk.toList()) {
          if (s.getFileName().toString().equals("__pycache__")
              || s.toString().contains("/__pycache__/")) {
            continue;
          }
          Path t = target.resolve(source.relativize(s).toString());
          if (Files.isDirectory(s)) {
            Files.createDirectories(t);
          } else {
            Files.createDirectories(t.getParent());
            Files.copy(s, t, StandardCopyOption.REPLACE_EXISTING);
            files[0]++;
          }
        }
      }
    }
    Files.writeString(fresh.resolve(STAMP), answer, StandardCharsets.UTF_8);
    NodeSdk.deleteTree(sdk);
    Files.move(fresh, sdk, StandardCopyOption.ATOMIC_MOVE);
    LOG.info(
        "copied the AWS SDK for Python {} from the host for the Python runtimes ({} files, {} ms)",
        versions,
        files[0],
        (System.nanoTime() - started) / 1_000_000);
  }

  /** What the Python runtimes carry, for the list of runtimes Kiln prints. */
  String describe() {
    if (!copied) {
      return "with the host's boto3 (copied when a Python function is first used)";
    }
    return versions.contains("boto3 ")
        ? "with the AWS SDK for Python " + versions
        : "WITHOUT the AWS SDK for Python (the host has no boto3: apt-get install python3-boto3)";
  }
}
