"""Infrastructure shared by every app: errors, the API's error handling, stored files. Knows no product concept."""
