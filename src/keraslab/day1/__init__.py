"""Day one: regression, classification, Fashion-MNIST, over-training, CNN."""
