//! Offline transcription of call recordings with whisper.cpp, voice-activity detection, risk
//! keyword alerts and PII redaction. Built in the [transcribe] work.
