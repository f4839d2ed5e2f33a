/**
 * Real brokers for the event source tests, started in the test JVM from Maven Central jars: an
 * SQS-compatible ElasticMQ ({@link dev.kiln.testing.brokers.ElasticMq}); and a PostgreSQL server
 * with logical replication made of the machine's PostgreSQL binaries ({@link
 * dev.kiln.testing.brokers.PostgresServer}).
 */
package dev.kiln.testing.brokers;
