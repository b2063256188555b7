"""Bureau endpoints of the clearing (spec/bureau-api.md §Cycles and statements, §Prefunds and
alerts, §Disputes, §Operations). Thin views: parse, call one service or selector, serialize."""
