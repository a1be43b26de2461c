"""In-app messages (消息): the bottom-layer record every service may write; it imports no zhtj app."""
