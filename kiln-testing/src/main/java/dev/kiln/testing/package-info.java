/**
 * Test fixtures shared by Kiln's modules: fakes of the sandbox driver and the stores, and the
 * contract suites a store implementation must pass. Depends only on kiln-model, kiln-store and
 * kiln-sandbox, so that kiln-invoke, kiln-api and kiln-server can use it in test scope. (The JUnit
 * extension that starts a whole server lives in kiln-server's tests: a fixture here that needed
 * kiln-server would make the module graph a cycle.)
 */
package dev.kiln.testing;
