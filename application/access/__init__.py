"""Access: dealer keys, issued, checked and revoked."""
