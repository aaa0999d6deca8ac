# Part Two of the slides: binary classification, label = sin(sum x_k^2) >= 0.
# As on the slides; only the Keras 3 renames applied (keras.Input instead of input_dim=).
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense

N = 10000
x = np.random.rand(N, 10)
y = np.sin(np.sum(x**2, axis=1))
y = (y >= 0).astype(int)

model = Sequential()
model.add(keras.Input(shape=(10,)))
model.add(Dense(100, activation='relu'))
model.add(Dense(100, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
model.summary()

model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
history = model.fit(x, y, batch_size=256, epochs=25, validation_split=0.2)

# accuracy by hand: predictions > 0.5
y_pred = model.predict(x) > 0.5
print("accuracy:", np.mean(y_pred[:, 0] == y))
