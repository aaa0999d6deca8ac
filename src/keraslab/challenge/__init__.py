"""The top-tagging challenge: a leaderboard server with hidden-truth scoring."""
