package dev.kiln.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Keeps the module arrows pointing one way, as the README's layout describes: model ← store ←
 * invoke ← api ← server, sandbox ← invoke, runtime-api ← invoke, runtimes ← invoke. Maven already
 * refuses cycles between modules; this also refuses a lower layer reaching up through a package it
 * happens to have on its class path.
 */
class ArchitectureTest {

  static final JavaClasses KILN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.kiln");

  @Test
  void modulesHaveNoCycles() {
    slices().matching("dev.kiln.(*)..").should().beFreeOfCycles().check(KILN);
  }

  @Test
  void modelDependsOnNoOtherModule() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.model..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kiln.store..",
            "dev.kiln.sandbox..",
            "dev.kiln.runtimes..",
            "dev.kiln.runtimeapi..",
            "dev.kiln.invoke..",
            "dev.kiln.esm..",
            "dev.kiln.events..",
            "dev.kiln.api..",
            "dev.kiln.server..")
        .check(KILN);
  }

  @Test
  void storeSandboxRuntimesAndRuntimeApiKnowNothingOfTheLayersAbove() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.kiln.store..",
            "dev.kiln.sandbox..",
            "dev.kiln.runtimes..",
            "dev.kiln.runtimeapi..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kiln.invoke..",
            "dev.kiln.esm..",
            "dev.kiln.events..",
            "dev.kiln.api..",
            "dev.kiln.server..")
        .check(KILN);
  }

  /**
   * The event router (schedules, rules, push sources) delivers through the invocation port and the
   * async queue, never through the HTTP API; it and the pollers are separate triggers that know
   * nothing of each other; the invocation core knows neither.
   */
  @Test
  void theEventRouterKnowsNeitherTheHttpApiNorThePollers_andTheCoreKnowsNoRouter() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.events..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kiln.api..", "dev.kiln.server..", "dev.kiln.esm..", "io.helidon..")
        .check(KILN);
    noClasses()
        .that()
        .resideInAnyPackage("dev.kiln.invoke..", "dev.kiln.esm..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.kiln.events..")
        .check(KILN);
  }

  /**
   * The pollers reach their functions through the invocation port, never through the HTTP API, and
   * the invocation core knows nothing of the triggers above it.
   */
  @Test
  void eventSourcePollersKnowNeitherTheHttpApiNorTheServer_andTheCoreKnowsNoPoller() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.esm..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kiln.api..", "dev.kiln.server..", "io.helidon..")
        .check(KILN);
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.invoke..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.kiln.esm..")
        .check(KILN);
  }

  /**
   * The stores speak of entities and keys ({@code StorageException}); the words AWS answers with
   * are the catalog's ({@code StorageOutcomes}), so a second backend cannot answer differently.
   */
  @Test
  void storesDoNotSpeakAws() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.store..")
        .should()
        .dependOnClassesThat()
        .belongToAnyOf(dev.kiln.model.LambdaError.class)
        .check(KILN);
  }

  @Test
  void sandboxAndRuntimeApiAreIndependentOfTheStore() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kiln.sandbox..", "dev.kiln.runtimeapi..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kiln.store..", "dev.kiln.model..")
        .check(KILN);
  }

  @Test
  void invokeDoesNotKnowTheHttpApiOrTheServer() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.invoke..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kiln.api..", "dev.kiln.server..", "io.helidon..")
        .check(KILN);
  }

  /**
   * A process that dies with its parent dies with the thread that started it, and Kiln's threads
   * come and go: every process is started on the one thread of {@link
   * dev.kiln.sandbox.ProcessSpawner}.
   */
  @Test
  void processesAreStartedOnlyByTheProcessSpawner() {
    noClasses()
        .that()
        .doNotHaveFullyQualifiedName(dev.kiln.sandbox.ProcessSpawner.class.getName())
        .should()
        .callMethod(ProcessBuilder.class, "start")
        .orShould()
        .callMethodWhere(
            com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                com.tngtech.archunit.base.DescribedPredicate.describe(
                    "Runtime.exec",
                    t -> t.getOwner().isEquivalentTo(Runtime.class) && t.getName().equals("exec"))))
        .check(KILN);
  }

  @Test
  void apiDoesNotKnowTheServer() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.api..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.kiln.server..")
        .check(KILN);
  }

  /** Time is the lowest layer: everything may read it, it reads nothing of Kiln. */
  @Test
  void timeDependsOnNothingOfKiln() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.time..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.kiln..")
        .andShould()
        .dependOnClassesThat()
        .resideOutsideOfPackages("dev.kiln.time..", "java..")
        .check(KILN);
  }

  /**
   * The policy language is a library of its own: it knows documents, requests and decisions, and
   * nothing of Kiln's functions, stores or API, so the API layer and any later service decide
   * access with the same evaluator.
   */
  @Test
  void theIamModuleDependsOnNothingOfKiln() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.iam..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kiln.model..",
            "dev.kiln.store..",
            "dev.kiln.invoke..",
            "dev.kiln.api..",
            "dev.kiln.server..")
        .check(KILN);
  }

  /**
   * The invoker, the Runtime API and the event router read the time only from the clock and ticker
   * they were given, so a test can step it (a schedule's due times over days, a daylight-saving
   * change); the system's sources are only the builders' defaults.
   */
  @Test
  void invokeRuntimeApiAndRouterNeverReadTheSystemClockThemselves() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kiln.invoke..", "dev.kiln.runtimeapi..", "dev.kiln.events..")
        .should()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .callMethod(java.time.Instant.class, "now")
        .orShould()
        .callMethod(java.time.Clock.class, "systemUTC")
        .check(KILN);
  }

  /**
   * kiln-invoke's components run on threads they are given, not ones they make: a {@code
   * ThreadFactory} for an owner loop (log writer, usage meter, dispatcher), an {@code Executor} for
   * short tasks (give-backs, write-ups, stops, provisioned starts). The defaults, named as the
   * threads always were, live in the builders named here and nowhere else, so a test can hand in
   * its own and a thread cannot be made behind the configuration's back.
   */
  @Test
  void invokeMakesNoThreadsOutsideTheBuildersThatHoldTheDefaults() {
    noClasses()
        .that()
        .resideInAPackage("dev.kiln.invoke..")
        .and()
        .doNotBelongToAnyOf(
            dev.kiln.invoke.Invoker.Builder.class,
            dev.kiln.invoke.BufferedLogWriter.Builder.class,
            dev.kiln.invoke.UsageMeter.Builder.class,
            dev.kiln.invoke.AsyncDispatcher.Builder.class)
        .should()
        .callMethod(Thread.class, "ofPlatform")
        .orShould()
        .callMethod(Thread.class, "ofVirtual")
        .orShould()
        .callMethod(Thread.class, "startVirtualThread", Runnable.class)
        .orShould()
        .callConstructorWhere(
            com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                com.tngtech.archunit.base.DescribedPredicate.describe(
                    "new Thread", t -> t.getOwner().isAssignableTo(Thread.class))))
        .orShould()
        .callMethodWhere(
            com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                com.tngtech.archunit.base.DescribedPredicate.describe(
                    "Executors.new*",
                    t ->
                        t.getOwner().isEquivalentTo(java.util.concurrent.Executors.class)
                            && t.getName().startsWith("new"))))
        .check(KILN);
  }

  /** The fakes and in-memory stores of kiln-testing are for tests; nothing shipped uses them. */
  @Test
  void shippedCodeNeverUsesTheTestingModule() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.kiln.testing..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.kiln.testing..")
        .check(KILN);
  }
}
