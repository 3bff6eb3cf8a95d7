"""The read models, one projection each, named after what they show."""
