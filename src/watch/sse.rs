//! Reads a `text/event-stream` response event by event.

/// One server-sent event.
#[derive(Debug, Default, Clone)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub fn new(response: reqwest::Response) -> EventStream {
        EventStream { response, buffer: String::new() }
    }

    /// The next event; `None` when the stream ends.
    pub async fn next(&mut self) -> Result<Option<Message>, reqwest::Error> {
        loop {
            if let Some(message) = self.take_message() {
                return Ok(Some(message));
            }
            match self.response.chunk().await? {
                Some(chunk) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                None => return Ok(None),
            }
        }
    }

    /// Takes one complete event out of the buffer; comments (keep-alives) are skipped.
    fn take_message(&mut self) -> Option<Message> {
        loop {
            let normalized = self.buffer.replace("\r\n", "\n");
            if normalized.len() != self.buffer.len() {
                self.buffer = normalized;
            }
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut message = Message::default();
            let mut has_data = false;
            for line in block.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => message.id = Some(value.to_string()),
                    "event" => message.event = Some(value.to_string()),
                    "data" => {
                        if has_data {
                            message.data.push('\n');
                        }
                        message.data.push_str(value);
                        has_data = true;
                    }
                    _ => {}
                }
            }
            if has_data {
                return Some(message);
            }
        }
    }
}
