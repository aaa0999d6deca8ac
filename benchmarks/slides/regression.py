# Part One of the slides: regression of y = sin(sum x_k^2) with a small dense network.
# As on the slides; only the Keras 3 renames applied (keras.Input instead of
# input_dim=, learning_rate= instead of lr=).
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers import SGD

# generate the data: 10000 random vectors of 10 numbers in [0,1)
N = 10000
x = np.random.rand(N, 10)
y = np.sin(np.sum(x**2, axis=1))

# build the model
model = Sequential()
model.add(keras.Input(shape=(10,)))
model.add(Dense(20, activation='relu'))
model.add(Dense(30, activation='relu'))
model.add(Dense(1))
model.summary()

# compile and train
model.compile(loss='mean_squared_error', optimizer=SGD(learning_rate=0.01))
history = model.fit(x, y, batch_size=32, epochs=10)
