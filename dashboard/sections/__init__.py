"""The 路长 sections page (/sections): 红黑榜, ranking, map by score, one section's view."""
