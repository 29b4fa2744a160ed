using SourceGenDO.Serialization;

namespace SourceGenDO.Micro.Codec;

/// <summary>
/// The client half of the codec, written the way the generated <c>BenchCounterStub</c> and its
/// <c>file</c>-scoped serializer do it (obj/.../generated/.../SourceGenDO.Micro.Codec.BenchCounter.g.cs).
/// </summary>
/// <remarks>
/// The generated serializer is <c>file static</c>, so it cannot be called from here; this is a copy of its
/// calls. <see cref="Verify"/> proves the copy still matches: <c>Place</c> echoes its argument and the
/// generated dispatcher encodes the result with the same writer method as the stub encodes the argument,
/// so both byte strings must be equal, and the copy must decode what the dispatcher wrote.
/// </remarks>
public static class ClientWireCodec
{
    /// <summary>
    /// As <c>BenchCounterStub.Increment</c> and the stub's channel together: a rented writer, field 1 =
    /// amount, then a copy while the writer goes back for reuse (the channel copies into a pooled array;
    /// this copy is exact-size so that callers may keep it).
    /// </summary>
    public static byte[] EncodeIncrementArguments(long amount)
    {
        var arguments = WireWriter.Rent();
        arguments.WriteInt64(1, amount);
        return arguments.TakeBytes();
    }

    /// <summary>As <c>BenchCounterStub.Place</c> and the stub's channel: field 1 = the order message.</summary>
    public static byte[] EncodePlaceArguments(Order order)
    {
        var arguments = WireWriter.Rent();
        WriteOrder(arguments, 1, order);
        return arguments.TakeBytes();
    }

    /// <summary>As the generated <c>ReadResult_Int64</c>, over a reader made the way the pending call makes it.</summary>
    public static long DecodeIncrementResult(ReadOnlySpan<byte> value)
    {
        var reader = new WireReader(value);
        long result = default;
        while (reader.ReadTag(out var field))
        {
            if (field == 1)
            {
                result = reader.ReadInt64();
            }
            else
            {
                reader.Skip();
            }
        }
        return result;
    }

    /// <summary>As the generated <c>ReadResult_Order</c>.</summary>
    public static Order? DecodePlaceResult(ReadOnlySpan<byte> value)
    {
        var reader = new WireReader(value);
        Order? result = default;
        while (reader.ReadTag(out var field))
        {
            if (field == 1)
            {
                result = ReadOrder(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
        return result;
    }

    /// <summary>
    /// Checks the copy against the real generated dispatcher; throws when the generator has changed
    /// and this file no longer measures what the stub does.
    /// </summary>
    public static void Verify(Dispatch.DurableObjectDispatcher dispatcher, DurableObject instance, Order order)
    {
        var placeArguments = EncodePlaceArguments(order);
        var placeResult = Invoke(dispatcher, instance, "Place", placeArguments);
        if (!placeArguments.AsSpan().SequenceEqual(placeResult))
        {
            throw new InvalidOperationException(
                $"The stub-side Order encoding ({Convert.ToHexString(placeArguments)}) differs from the generated one ({Convert.ToHexString(placeResult)}); update ClientWireCodec from the generated file.");
        }
        var decoded = DecodePlaceResult(placeResult);
        if (decoded is null || decoded.Id != order.Id || decoded.Quantity != order.Quantity || decoded.Price != order.Price
            || !decoded.Tags.SequenceEqual(order.Tags))
        {
            throw new InvalidOperationException($"Decoding the generated Place result gave {decoded}, expected {order}.");
        }

        var before = DecodeIncrementResult(Invoke(dispatcher, instance, "Increment", EncodeIncrementArguments(0)));
        var after = DecodeIncrementResult(Invoke(dispatcher, instance, "Increment", EncodeIncrementArguments(5)));
        if (after - before != 5)
        {
            throw new InvalidOperationException($"Increment(5) through the generated dispatcher went from {before} to {after}.");
        }
    }

    /// <summary>The generated dispatcher's result for one call, which completes synchronously for these methods.</summary>
    public static byte[] Invoke(Dispatch.DurableObjectDispatcher dispatcher, DurableObject instance, string method, byte[] arguments) =>
        dispatcher.InvokeAsync(instance, method, arguments, CancellationToken.None).AsTask().GetAwaiter().GetResult().ToArray();

    // As the generated Write_Order / Write_ListOfString / WriteBoxed_String.
    private static void WriteOrder(WireWriter writer, int field, Order? value)
    {
        if (value is null)
        {
            return;
        }
        var start = writer.BeginMessage(field);
        writer.WriteString(1, value.Id);
        writer.WriteInt32(2, value.Quantity);
        writer.WriteDecimal(3, value.Price);
        WriteListOfString(writer, 4, value.Tags);
        writer.EndMessage(start);
    }

    private static void WriteListOfString(WireWriter writer, int field, List<string>? value)
    {
        if (value is null)
        {
            return;
        }
        var start = writer.BeginMessage(field);
        foreach (var item in value)
        {
            WriteBoxedString(writer, 1, item);
        }
        writer.EndMessage(start);
    }

    private static void WriteBoxedString(WireWriter writer, int field, string value)
    {
        var box = writer.BeginMessage(field);
        writer.WriteString(1, value);
        writer.EndMessage(box);
    }

    // As the generated Read_Order / Read_ListOfString / ReadBoxed_String.
    private static Order ReadOrder(ref WireReader reader)
    {
        var message = reader.ReadMessage();
        string id = default!;
        int quantity = default;
        decimal price = default;
        List<string> tags = default!;
        while (message.ReadTag(out var field))
        {
            switch (field)
            {
                case 1:
                    id = message.ReadString();
                    break;
                case 2:
                    quantity = message.ReadInt32();
                    break;
                case 3:
                    price = message.ReadDecimal();
                    break;
                case 4:
                    tags = ReadListOfString(ref message);
                    break;
                default:
                    message.Skip();
                    break;
            }
        }
        return new Order(id, quantity, price, tags);
    }

    private static List<string> ReadListOfString(ref WireReader reader)
    {
        var message = reader.ReadMessage();
        var result = new List<string>();
        while (message.ReadTag(out var field))
        {
            if (field == 1)
            {
                result.Add(ReadBoxedString(ref message));
            }
            else
            {
                message.Skip();
            }
        }
        return result;
    }

    private static string ReadBoxedString(ref WireReader reader)
    {
        var box = reader.ReadMessage();
        string value = default!;
        while (box.ReadTag(out var field))
        {
            if (field == 1)
            {
                value = box.ReadString();
            }
            else
            {
                box.Skip();
            }
        }
        return value;
    }
}
