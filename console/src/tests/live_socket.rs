//! The live WebSocket over a real loopback connection: a lawyer's socket starts with their
//! desk and gets the screen-pop when the IVR rings them; a socket without a session is refused.

use std::time::Duration;

use futures_util::StreamExt;
use hotline_cases::unix_now_ms;
use hotline_ivr::events::RegionSource;
use hotline_ivr::{IvrEvent, LawyerId};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::Harness;
use crate::center::LiveEvent;

#[tokio::test]
async fn the_lawyer_socket_gets_the_desk_and_the_screen_pop() {
    let h = Harness::new().await;
    let lai = h.login("lai").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = h.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let url = format!("ws://{addr}/api/live");
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(
            resp.status(),
            axum::http::StatusCode::UNAUTHORIZED,
            "no session, no socket"
        ),
        Err(e) => panic!("no session: expected a 401 answer, got {e}"),
        Ok(_) => panic!("no session, yet the socket opened"),
    }
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("hotline_session={}", lai.cookie).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut next = async || -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("a message within 5 s")
                .unwrap()
                .unwrap();
            if let Message::Text(t) = msg {
                return serde_json::from_str(&t).unwrap();
            }
        }
    };
    let hello = next().await;
    assert_eq!(
        (hello["type"].as_str(), hello["state"].as_str()),
        (Some("desk"), Some("logged_out"))
    );

    let send = |event| {
        h.center
            .events
            .send(LiveEvent {
                call_id: "c7".into(),
                at: unix_now_ms(),
                event,
            })
            .unwrap();
    };
    send(IvrEvent::CallAnswered {
        caller: "13800000009".into(),
    });
    send(IvrEvent::RegionResolved {
        region: "shicheng".into(),
        how: RegionSource::Number,
    });
    send(IvrEvent::Ringing {
        lawyer: LawyerId::new("wen-xiaohong"),
    });
    send(IvrEvent::Ringing {
        lawyer: LawyerId::new("lai-zhiming"),
    });
    // The call task files the call just after its Ringing event; the pop waits for that.
    let link = h
        .store
        .ticket_for_call(&hotline_cases::CallTicket {
            call_id: "c7",
            caller: "13800000009",
            category: None,
            region: Some("shicheng"),
            lawyer_id: None,
            at: unix_now_ms(),
        })
        .await
        .unwrap();
    let pop = next().await;
    assert_eq!(
        pop["type"], "screen_pop",
        "another lawyer's ring is not shown: {pop}"
    );
    assert_eq!(
        (
            pop["call_id"].as_str(),
            pop["caller"].as_str(),
            pop["region_name"].as_str()
        ),
        (Some("c7"), Some("13800000009"), Some("石城县"))
    );
    assert_eq!(
        pop["ticket"]["number"].as_str(),
        Some(link.number.as_str()),
        "the ticket the call task filed, for the form: {pop}"
    );
    server.abort();
}
