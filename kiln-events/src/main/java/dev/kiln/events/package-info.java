/**
 * The event router: what is pushed to functions rather than polled for them. Schedules (EventBridge
 * Scheduler) and rules on event buses (EventBridge) decide which function gets which event and
 * when; the push sources (Prometheus Alertmanager's webhook, S3-compatible stores' notifications)
 * turn what happens outside Kiln into events in AWS's own formats. Every delivery goes through the
 * durable async queue ({@link dev.kiln.invoke.AsyncInvocations}), so an event accepted is never
 * lost.
 */
package dev.kiln.events;
