"""The Vexa model: pure domain state, validation rules, views and the profile table."""
