/** A FIFO with O(1) push, shift and unshift (a ring buffer that grows), for the task queues. */

export class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  unshift(item: T): void {
    this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  /** The item at `index` from the front (0: the head). */
  at(index: number): T | undefined {
    return index < 0 || index >= this.#size ? undefined : this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  /** Removes the item at `index` from the front, moving the ones before it back one place: O(index). */
  removeAt(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    const mask = this.#items.length - 1;
    const item = this.#items[(this.#head + index) & mask];
    for (let i = index; i > 0; i--) this.#items[(this.#head + i) & mask] = this.#items[(this.#head + i - 1) & mask];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & mask;
    this.#size--;
    return item;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)]!;
  }

  #grow(): void {
    if (this.#size < this.#items.length) return;
    const next: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
