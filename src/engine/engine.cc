// Placeholder until the engine room is written.
