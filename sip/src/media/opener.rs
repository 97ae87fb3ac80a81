//! The media thread's doorman: every command passes through this thread first, which creates
//! the recording files a command needs (a call's stereo recording on `Open`, a voicemail
//! message on `StartMessage`). Creating a file allocates an inode and can take milliseconds
//! under load; done on the media thread it would delay the 20 ms clock of every call. Commands
//! keep their order because all of them take this one path.

use std::net::UdpSocket;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::thread;

use tracing::warn;

use super::engine::{LegId, LegParams, MediaCommand};
use super::recorder::Recorder;

/// A command as the media thread receives it: files already created.
pub(super) enum Prepared {
    /// Starts a leg (see [`MediaCommand::Open`]) with its recording, if one was asked for and
    /// could be created.
    Open {
        leg: LegId,
        socket: UdpSocket,
        rtcp_socket: Option<UdpSocket>,
        params: LegParams,
        recorder: Option<Recorder>,
    },
    /// Starts a voicemail message recording (`None`: the file could not be created).
    Message(LegId, Option<Recorder>),
    /// Any other command, unchanged.
    Command(MediaCommand),
}

/// Creates the files `cmd` needs.
pub(super) fn prepare(cmd: MediaCommand) -> Prepared {
    match cmd {
        MediaCommand::Open {
            leg,
            socket,
            rtcp_socket,
            params,
            record,
        } => Prepared::Open {
            leg,
            socket,
            rtcp_socket,
            params,
            recorder: record.and_then(|path| create(&path, "recording not started")),
        },
        MediaCommand::StartMessage(leg, path) => {
            Prepared::Message(leg, create(&path, "message recording not started"))
        }
        other => Prepared::Command(other),
    }
}

fn create(path: &Path, what: &str) -> Option<Recorder> {
    Recorder::create(path)
        .map_err(|e| warn!(error = %e, "{what}"))
        .ok()
}

/// Starts the thread that prepares `commands` and passes them on to `media`, in order. It
/// ends when either side hangs up.
pub(super) fn spawn(
    commands: Receiver<MediaCommand>,
    media: Sender<Prepared>,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name("media-open".into())
        .spawn(move || {
            for cmd in commands {
                if media.send(prepare(cmd)).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::G711;

    fn params() -> LegParams {
        LegParams {
            codec: G711::Ulaw,
            payload_type: 0,
            telephone_event_pt: None,
            remote: Some("127.0.0.1:9".parse().unwrap()),
            send: true,
        }
    }

    #[test]
    fn open_creates_the_recording_before_the_media_thread_sees_it() {
        let dir = std::env::temp_dir().join(format!("hotline-opener-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("call.wav");
        let _ = std::fs::remove_file(&path);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let prepared = prepare(MediaCommand::Open {
            leg: LegId(1),
            socket,
            rtcp_socket: None,
            params: params(),
            record: Some(path.clone()),
        });
        assert!(matches!(
            prepared,
            Prepared::Open {
                recorder: Some(_),
                ..
            }
        ));
        assert!(path.is_file(), "the file exists once prepared");
        // A file that cannot be created leaves the leg running without a recording.
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let prepared = prepare(MediaCommand::Open {
            leg: LegId(2),
            socket,
            rtcp_socket: None,
            params: params(),
            record: Some(dir.join("no/such/dir/call.wav")),
        });
        assert!(matches!(prepared, Prepared::Open { recorder: None, .. }));
        let message = prepare(MediaCommand::StartMessage(LegId(1), path.clone()));
        assert!(
            matches!(message, Prepared::Message(LegId(1), None)),
            "an existing file is never overwritten"
        );
        assert!(matches!(
            prepare(MediaCommand::Close(LegId(1))),
            Prepared::Command(MediaCommand::Close(LegId(1)))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
