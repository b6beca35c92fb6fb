/**
 * Layout of one agent's parameters in ONE flat buffer (llm.c style): the GPU binds a single
 * storage buffer per agent (G agents side by side), Adam/RMSprop/clipping run over it as one vector,
 * and each tensor is a named slice of it.
 *
 * Order: actor.w1 [O×H], actor.b1 [H], actor.w2 [H×A], actor.b2 [A],
 *        critic.w1 [O×H], critic.b1 [H], critic.w2 [H×V], critic.b2 [V].
 * Weights are [in × out] row-major (element (i, o) at i*out + o) so that y = x·W + b reads W by rows;
 * this is the transpose of PyTorch's nn.Linear.weight [out × in].
 */

/** Every CPU reference takes f32 (what the GPU holds) or f64 (what finite-difference tests need). */
export type FloatArray = Float32Array | Float64Array;

export type Activation = 'relu' | 'tanh';

export interface NetShape {
  /** O: observation size. */
  obsSize: number;
  /** H: hidden width of both networks. */
  hiddenSize: number;
  /** A: number of discrete actions. */
  numActions: number;
  /** V: 1 for a state-value critic V(s), A for an action-value critic Q(s,·). */
  valueOutputs: number;
  activation: Activation;
  /**
   * One hidden layer shared by actor and critic (a "shared trunk"): criticW1/criticB1 are then the
   * actor's tensors (same slot), the critic owns only its head, and the trunk's gradient sums both.
   */
  sharedTrunk?: boolean;
}

export const TENSOR_NAMES = ['actorW1', 'actorB1', 'actorW2', 'actorB2', 'criticW1', 'criticB1', 'criticW2', 'criticB2'] as const;
export type TensorName = (typeof TENSOR_NAMES)[number];

export interface TensorSlot {
  name: TensorName;
  /** Position in TENSOR_NAMES; also the RNG stream offset used by src/cpu/init.ts. */
  index: number;
  offset: number;
  size: number;
  /** [in, out] for a weight, [out] for a bias. */
  shape: [number, number] | [number];
  /** Inputs of the layer the tensor belongs to (PyTorch's fan_in for both its weight and bias). */
  fanIn: number;
}

export type ParamLayout = Record<TensorName, TensorSlot> & {
  /** The slots in buffer order (eight; six with a shared trunk, whose critic first layer aliases the actor's). */
  tensors: TensorSlot[];
  /** P: number of parameters of one agent. */
  total: number;
};

export function paramLayout(shape: NetShape): ParamLayout {
  const { obsSize: O, hiddenSize: H, numActions: A, valueOutputs: V } = shape;
  for (const [key, n] of Object.entries({ O, H, A, V })) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`paramLayout: ${key} must be a positive integer, got ${n}`);
  }
  if (V !== 1 && V !== A) throw new Error(`paramLayout: valueOutputs must be 1 (V(s)) or numActions=${A} (Q(s,·)), got ${V}`);
  const specs: [TensorName, [number, number] | [number], number][] = [
    ['actorW1', [O, H], O],
    ['actorB1', [H], O],
    ['actorW2', [H, A], H],
    ['actorB2', [A], H],
    ...(shape.sharedTrunk ? [] : ([['criticW1', [O, H], O], ['criticB1', [H], O]] as [TensorName, [number, number] | [number], number][])),
    ['criticW2', [H, V], H],
    ['criticB2', [V], H],
  ];
  const tensors: TensorSlot[] = [];
  let offset = 0;
  specs.forEach(([name, dims, fanIn], index) => {
    const size = dims.reduce((a, b) => a * b, 1);
    tensors.push({ name, index, offset, size, shape: dims, fanIn });
    offset += size;
  });
  const byName = Object.fromEntries(tensors.map((t) => [t.name, t])) as Record<TensorName, TensorSlot>;
  if (shape.sharedTrunk) {
    byName.criticW1 = byName.actorW1;
    byName.criticB1 = byName.actorB1;
  }
  return { ...byName, tensors, total: offset };
}

/** The slice of `flat` (params, grads or optimizer state) that holds `slot`; shares memory. */
export function tensorView<T extends FloatArray>(flat: T, slot: TensorSlot): T {
  return flat.subarray(slot.offset, slot.offset + slot.size) as T;
}
