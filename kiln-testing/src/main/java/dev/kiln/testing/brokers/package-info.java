/**
 * Real brokers for the event source tests, started in the test JVM from Maven Central jars: an
 * SQS-compatible ElasticMQ ({@link dev.kiln.testing.brokers.ElasticMq}).
 */
package dev.kiln.testing.brokers;
