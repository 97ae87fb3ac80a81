//! The 12348 IVR: dialplan interpreter, caller-region resolution, duty roster, queues and
//! overflow up the administrative hierarchy. Built in the [ivr-routing] work; until then calls
//! are answered and held by the `hotline` binary itself.
