"""The web console: plain HTML, CSS and ES modules served at ``/console`` by the API itself
(no build step, nothing fetched from elsewhere). It talks to the same HTTP API as any client."""
