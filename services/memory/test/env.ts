// Imported first by the tests: the mem0ai client reads MEM0_TELEMETRY when it is loaded and would otherwise
// post usage events to PostHog.
process.env.MEM0_TELEMETRY = 'false';
